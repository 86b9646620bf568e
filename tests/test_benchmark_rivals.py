"""The benchmark's outside rivals (benchmarks/smp_rivals.py): a segmentation_models_pytorch model trained by our
trainer, scored by our validator and exported by our exporter, so that the round compares like with like."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_noise_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
smp_rivals = pytest.importorskip("smp_rivals")  # plain module of benchmarks/, importable once on the path
pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[bench]'")


@pytest.fixture(scope="module")
def trained_rival(tmp_path_factory):
    """One epoch of smp's FPN + MobileNetV2 through `YOLO(...).train` with the rivals' recipe; its last.pt."""
    from ultralytics import YOLO

    tmp = tmp_path_factory.mktemp("rival")
    data = make_noise_dataset(tmp / "data", n_train=4, n_val=2, size=64)
    with smp_rivals.training("smp-fpn-mnv2"):
        YOLO("yolo11n-semseg.yaml").train(
            data=str(data), epochs=1, imgsz=64, batch=2, nbs=2, workers=0, seed=0, plots=False, val=False,
            project=str(tmp / "runs"), name="fpn", exist_ok=True, **smp_rivals.RECIPE,
        )  # fmt: skip
    return tmp / "runs" / "fpn" / "weights" / "last.pt", data


def test_the_rival_is_what_trained(trained_rival):
    """The checkpoint holds the smp model (not our YOLO body) with the dataset's classes and the rivals' recipe."""
    from ultralytics import YOLO

    weights, _ = trained_rival
    model = YOLO(str(weights))
    net = model.model
    assert isinstance(net, smp_rivals.SmpSemSegModel) and net.yaml["smp"] == ["FPN", "mobilenet_v2"]
    assert type(net.model[0].net).__name__ == "FPN" and len(net.names) == 3
    args = torch.load(weights, weights_only=False)["train_args"]
    assert args["optimizer"] == "AdamW" and args["lr0"] == smp_rivals.RECIPE["lr0"] and args["nbs"] == args["batch"]


def test_our_validator_scores_it_and_our_exporter_exports_it(trained_rival, tmp_path):
    """Scored at the labels' resolution by our validator; its ONNX class map (our tail) equals PyTorch's argmax."""
    import onnxruntime as ort
    from transfer import evaluate
    from ultralytics import YOLO

    weights, data = trained_rival
    miou, per_class = evaluate(weights, str(data), 64)
    assert 0 < miou < 1 and set(per_class) == {"a", "b", "c"}

    model = YOLO(str(weights))
    onnx_file = model.export(format="onnx", imgsz=64)
    x = np.random.default_rng(1).random((1, 3, 64, 64), dtype=np.float32)
    (classes,) = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"]).run(None, {"images": x})
    net = YOLO(str(weights)).model.float().eval()
    with torch.no_grad():
        reference = net(torch.from_numpy(x)).argmax(1).numpy()
    assert classes.dtype == np.uint8 and classes.shape == reference.shape == (1, 64, 64)
    assert len(np.unique(reference)) > 1, "the reference map is a single class: agreement would prove nothing"
    assert (classes == reference).mean() >= 0.999
