"""Exported models: the output contract, any input size, and parity with PyTorch for every format that runs here."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import run_cli


@pytest.fixture(scope="module")
def weights(trained_run, tmp_path_factory) -> Path:
    """A private copy of the trained weights, so exports of this module do not collide with other tests'."""
    d = tmp_path_factory.mktemp("export")
    (d / "m.pt").write_bytes((trained_run / "weights" / "best.pt").read_bytes())
    return d / "m.pt"


@pytest.fixture(scope="module")
def sources(toy_data, tmp_path_factory) -> dict[str, list[str]]:
    """Non-square validation images (1:2) and square crops of them."""
    rect = sorted(str(p) for p in (toy_data["path"] / "images" / "val").glob("*.jpg"))[:6]
    d = tmp_path_factory.mktemp("square")
    square = []
    for f in rect:
        cv2.imwrite(str(d / Path(f).name), cv2.imread(f)[:, 64:192])
        square.append(str(d / Path(f).name))
    return {"rect": rect, "square": square}


def _export(weights: Path, fmt: str, *args: str) -> str:
    p = run_cli("export", f"model={weights}", f"format={fmt}", *args)
    out = p.stdout + p.stderr
    line = next(x for x in out.splitlines() if "Results saved to" in x)
    return line.split("Results saved to")[1].strip().replace("\x1b[1m", "").replace("\x1b[0m", "")


def _maps(model: str, images: list[str], imgsz: int) -> list[np.ndarray]:
    from ultralytics import YOLO

    # a fresh model per image: older 8.4 releases neither split a batch for a batch-1 export nor keep a static
    # export's own shape when predict() is called a second time with imgsz=
    return [YOLO(model).predict(im, imgsz=imgsz, verbose=False)[0].semseg.data.cpu().numpy() for im in images]


@pytest.mark.parametrize(
    "fmt,args,kinds",
    [
        ("onnx", ["imgsz=128,256"], ["rect"]),  # static at the 1:2 images' shape
        ("onnx", ["imgsz=128"], ["square"]),  # static square, square images
        ("onnx", ["dynamic=True", "imgsz=256"], ["rect", "square"]),
        ("openvino", ["imgsz=128,256"], ["rect"]),
        ("openvino", ["dynamic=True", "imgsz=256"], ["rect", "square"]),
        ("torchscript", ["imgsz=128,256"], ["rect"]),
    ],
)
def test_exported_predictions_and_val_match_pytorch(weights, sources, fmt, args, kinds):
    """A static export letterboxes to its own shape, so it is compared on images of that shape; dynamic on both.

    Inputs are at the images' own size: when they are rescaled, PyTorch resizes logits to the original size before
    the argmax while a class-map graph's output is resized with nearest, which differs at class boundaries by design.
    """
    from ultralytics import YOLO

    f = _export(weights, fmt, *args)
    for kind in kinds:
        imgsz = {"rect": 256, "square": 128}[kind]  # the sources' long side
        ref, got = _maps(str(weights), sources[kind], imgsz), _maps(f, sources[kind], imgsz)
        for a, b in zip(ref, got):
            assert a.shape == b.shape and (a == b).mean() >= 0.999, (fmt, kind, (a == b).mean())
    if kinds == ["square"]:
        return  # the validation images are 1:2
    kw = dict(data="synthetic-streets.yaml", imgsz=256, batch=1, plots=False, verbose=False)
    m_ref = YOLO(str(weights)).val(**kw).semseg.IoU
    m_exp = YOLO(f).val(**kw).semseg.IoU
    assert abs(m_ref - m_exp) * 100 <= 0.1, (m_ref, m_exp)


def test_output_contract(weights, sources):
    import onnx
    import onnxruntime as ort
    from ultralytics import YOLO

    ref = YOLO(str(weights)).predict(sources["rect"][0], imgsz=256, return_conf=True, verbose=False)[0].semseg
    expected = {
        "classmap": [("classmap", "tensor(uint8)", 3)],
        "classmap_int32": [("classmap", "tensor(int32)", 3)],
        "classmap_conf": [("classmap", "tensor(uint8)", 3), ("confidence", "tensor(float)", 3)],
        "logits": [("logits", "tensor(float)", 4)],
        "logits_stride4": [("logits", "tensor(float)", 4)],
    }
    for mode, outs in expected.items():
        f = _export(weights, "onnx", "dynamic=True", "imgsz=256", f"export_output={mode}")
        s = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
        meta = s.get_modelmeta().custom_metadata_map
        assert meta["task"] == "semseg" and meta["semseg_output"] == mode
        assert ast.literal_eval(meta["semseg_output_names"]) == [o[0] for o in outs]
        assert [(o.name, o.type, len(o.shape)) for o in s.get_outputs()] == outs
        if mode.startswith("classmap"):  # the fast tail: class scores last before the Resize and the ArgMax
            ops = [n.op_type for n in onnx.load(f).graph.node]
            last_resize = len(ops) - 1 - ops[::-1].index("Resize")
            assert ops[last_resize - 1] == "Transpose" and "ArgMax" in ops[last_resize:], ops[-8:]
        for h, w in [(128, 256), (50, 77), (97, 130)]:  # any size, also not multiples of 32
            y = s.run(None, {"images": np.random.rand(1, 3, h, w).astype(np.float32)})
            size = ((h + 3) // 4, (w + 3) // 4) if mode == "logits_stride4" else (h, w)
            assert all(o.shape[-2:] == size for o in y), (mode, [o.shape for o in y])
        r = YOLO(f).predict(sources["rect"][0], imgsz=256, return_conf=True, verbose=False)[0].semseg
        assert (r.data.numpy() == ref.data.numpy()).mean() >= 0.999, mode
        if r.conf is not None:
            agree = r.data == ref.data
            assert torch.allclose(r.conf[agree], ref.conf[agree], atol=2e-3), mode


def test_onnx_example_runs_without_torch(weights, sources, tmp_path):
    from ultralytics import YOLO

    f = _export(weights, "onnx", "imgsz=128,256")
    example = Path(__file__).parents[1] / "examples" / "onnx_inference.py"
    blocker = "import sys, runpy; sys.modules['torch'] = None; sys.modules['ultralytics'] = None; "
    code = blocker + f"sys.argv = ['x', {f!r}, *{sources['rect']!r}, '--out', {str(tmp_path)!r}]; "
    code += f"runpy.run_path({str(example)!r}, run_name='__main__')"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    ref = _maps(str(weights), sources["rect"], 256)
    names = YOLO(str(weights)).names
    assert names[int(np.bincount(ref[0].ravel()).argmax())] in p.stdout.splitlines()[0]  # names from the metadata
    for img, r in zip(sources["rect"], ref):
        got = cv2.imread(str(tmp_path / (Path(img).stem + ".png")), cv2.IMREAD_UNCHANGED)
        assert got.shape == r.shape and (got == r).mean() >= 0.999


def test_int8_calibration_reads_semseg_data(weights, toy_data):
    """TensorRT/OpenVINO INT8 calibration gets letterboxed semseg images at the export shape (not detection data)."""
    from ultralytics import YOLO
    from ultralytics.engine.exporter import Exporter

    exporter = Exporter(overrides={"data": "synthetic-streets.yaml", "batch": 4, "format": "engine", "quantize": 8})
    exporter.model, exporter.imgsz = YOLO(str(weights)).model, [128, 256]
    batch = next(iter(exporter.get_int8_calibration_dataloader("test:")))
    assert batch["img"].shape == (4, 3, 128, 256) and batch["img"].dtype == torch.uint8


def test_tensorrt_uint8_check_reads_installed_version(monkeypatch):
    from importlib import metadata

    from ultralytics_semseg.engine import export

    monkeypatch.setattr(metadata, "version", lambda d: {"tensorrt": "8.6.1"}.get(d) or (_ for _ in ()).throw(
        metadata.PackageNotFoundError(d)))  # fmt: skip
    assert export.tensorrt_supports_uint8() is False
    monkeypatch.setattr(metadata, "version", lambda d: "10.3.0")
    assert export.tensorrt_supports_uint8() is True


def test_predict_video_and_folder_sources(weights, sources, root):
    """Videos and folders go through Ultralytics' loaders like other tasks; images also get a class-id PNG."""
    video = root / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (256, 128))
    for f in sources["rect"][:3]:
        writer.write(cv2.imread(f))
    writer.release()
    out = root / "runs" / "predict-video"
    p = run_cli("semseg", "predict", f"model={weights}", f"source={video}", f"project={out.parent}",
                f"name={out.name}", "exist_ok=True")  # fmt: skip
    assert "video 1/1 (frame 3/3)" in p.stdout + p.stderr and (out / "clip.avi").stat().st_size > 0
    run_cli("semseg", "predict", f"model={weights}", f"source={Path(sources['rect'][0]).parent}", "save=True",
            f"project={out.parent}", "name=predict-folder", "exist_ok=True")  # fmt: skip
    assert len(list((out.parent / "predict-folder" / "masks").glob("*.png"))) == 24
