"""SemSegModel: YAML scales, output geometry, aux head, backbone transfer and model info."""

from __future__ import annotations

import pytest
import torch
from conftest import transferred

from ultralytics_semseg.nn.model import SemSegModel


@pytest.mark.parametrize("version", ["11", "26"])
def test_scales_build_and_grow(version):
    params = []
    for scale in "nsmlx":
        m = SemSegModel(f"yolo{version}{scale}-semseg.yaml", nc=19, verbose=False)
        params.append(sum(p.numel() for p in m.parameters()))
    assert params == sorted(params) and params[0] < 3_000_000


def test_outputs_train_eval_export():
    m = SemSegModel("yolo11n-semseg.yaml", nc=7, verbose=False)
    x = torch.rand(2, 3, 96, 160)
    logits, aux = m.train()(x)
    assert logits.shape == (2, 7, 24, 40) and aux.shape == (2, 7, 6, 10)
    m.eval()
    assert m(x).shape == (2, 7, 24, 40)  # aux head is not run at inference
    m.model[-1].export = True
    out = m(x)
    assert out.shape == (2, 96, 160) and out.dtype == torch.uint8
    m.model[-1].export = False


def test_no_aux_head_option(tmp_path):
    yaml = tmp_path / "noaux-semseg.yaml"
    from ultralytics_semseg.cfg import MODELS_DIR

    yaml.write_text(
        (MODELS_DIR / "yolo11-semseg.yaml")
        .read_text()
        .replace("SemSegHead, [nc, 256, True]", "SemSegHead, [nc, 256, False]")
    )
    m = SemSegModel(str(yaml), nc=3, verbose=False)
    assert m.model[-1].aux is None
    logits, aux = m.train()(torch.rand(2, 3, 64, 64))
    assert (
        aux is None
        and m.loss({"img": torch.rand(2, 3, 64, 64), "semseg_mask": torch.zeros(2, 64, 64, dtype=torch.uint8)})[0] > 0
    )


def test_backbone_transfer_from_detection_checkpoint(tmp_path, caplog):
    import logging

    from ultralytics import YOLO

    det = YOLO("yolo11n.yaml")
    det.save(tmp_path / "det.pt")
    with caplog.at_level(logging.INFO, logger="ultralytics"):
        seg = YOLO("yolo11n-semseg.yaml").load(str(tmp_path / "det.pt"))
    n, total = transferred(caplog.text)
    assert n >= 200 and n < total  # backbone + neck rows 0-16, not the detection head
    sd, dsd = seg.model.state_dict(), det.model.state_dict()
    assert torch.allclose(sd["model.0.conv.weight"], dsd["model.0.conv.weight"], atol=1e-3)  # saved as fp16
    assert torch.allclose(sd["model.16.cv2.conv.weight"], dsd["model.16.cv2.conv.weight"], atol=1e-3)


def test_info_reports_params_and_gflops():
    m = SemSegModel("yolo11n-semseg.yaml", nc=19, verbose=False)
    layers, params, grads, gflops = m.info(verbose=True, imgsz=640)
    assert params == sum(p.numel() for p in m.parameters()) and gflops > 1


def test_scaled_names_load_from_any_directory(tmp_path):
    """Only the file name loses its scale letter: a folder such as 'tmp.3lf' (digit + scale letter) stays intact."""
    from ultralytics_semseg.cfg import MODELS_DIR, load_model_yaml

    d = tmp_path / "tmp.3lfx"
    d.mkdir()
    (d / "yolo11-semseg.yaml").write_text((MODELS_DIR / "yolo11-semseg.yaml").read_text())
    cfg = load_model_yaml(d / "yolo11s-semseg.yaml")
    assert cfg["scale"] == "s" and cfg["yaml_file"] == str(d / "yolo11s-semseg.yaml")
    assert load_model_yaml(MODELS_DIR / "yolo26m-semseg.yaml")["scale"] == "m"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_tta_log_probabilities_stay_finite(dtype):
    """A confident model (FP16 softmax underflows at a logit gap of ~17) must not give -inf log-probabilities: bilinear
    upsampling turns -inf into NaN at the borders, and argmax picks NaN. The output keeps the logits' dtype."""
    from ultralytics_semseg.utils.ops import postprocess

    m = SemSegModel("yolo11n-semseg.yaml", nc=3, verbose=False).eval()

    def confident(x):
        logits = torch.zeros(x.shape[0], 3, x.shape[2] // 4, x.shape[3] // 4)
        logits[:, 1] = 200.0  # class 1 everywhere, classes 0 and 2 at a probability of 0 in any float type
        return logits.to(dtype)

    m._predict_once = confident
    out = m.predict(torch.rand(1, 3, 64, 64).to(dtype), augment=True)
    assert out.dtype == dtype and torch.isfinite(out).all()
    classes = postprocess(out, (64, 64), [(50, 70)])[0]
    assert (classes == 1).all()


def test_amp_check_compares_the_semseg_model_itself():
    """The trainer's AMP check runs our model in FP32 and under autocast (BF16 on the CPU here, FP16 on CUDA), leaves
    its mode and the global random state alone, and fails when autocast gives non-finite logits."""
    from ultralytics_semseg.models.train import amp_class_maps_agree

    m = SemSegModel("yolo11n-semseg.yaml", nc=5, verbose=False).train()
    rng = torch.get_rng_state()
    assert amp_class_maps_agree(m, "cpu", torch.bfloat16, imgsz=128)
    assert m.training and torch.equal(torch.get_rng_state(), rng)

    def broken_under_autocast(module, args, out):
        return out * float("nan") if torch.is_autocast_enabled("cpu") else out

    m.model[-1].register_forward_hook(broken_under_autocast)
    assert not amp_class_maps_agree(m, "cpu", torch.bfloat16, imgsz=128)


def test_cuda_training_runs_the_semseg_amp_check_not_ultralytics(monkeypatch):
    """On CUDA, `_setup_train` must not run Ultralytics' `check_amp`: it compares a detection model, yolo26n.pt, which
    it downloads first (an offline GPU machine then only skips the check). The CUDA device is simulated."""
    import types

    import ultralytics.engine.trainer as ut

    from ultralytics_semseg.models import train

    def upstream(model):
        raise AssertionError("Ultralytics' check_amp (yolo26n.pt) was called")

    calls = []
    monkeypatch.setattr(train, "ultralytics_check_amp", upstream)
    monkeypatch.setattr(train, "amp_class_maps_agree", lambda m, device, dtype: calls.append((device, dtype)) or True)
    cuda_model = types.SimpleNamespace(parameters=lambda: iter([types.SimpleNamespace(device=torch.device("cuda"))]))
    assert train.check_amp(cuda_model) and calls == [("cuda", torch.float16)]

    seen = []
    monkeypatch.setattr(ut.BaseTrainer, "_setup_train", lambda self: seen.append(ut.check_amp))
    original = ut.check_amp
    trainer = object.__new__(train.SemSegTrainer)  # no __init__: only the setup hook is exercised
    trainer.args = types.SimpleNamespace(cls_pw=0)
    trainer._setup_train()
    assert seen == [train.check_amp] and ut.check_amp is original  # rebound for Ultralytics' setup only
