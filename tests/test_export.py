"""Exported models: the output contract, any input size, and parity with PyTorch for every format that runs here."""

from __future__ import annotations

import ast
import importlib.util
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

    # task given: MNN keeps its metadata where Ultralytics' task guess cannot read it
    return [r.semseg.data.cpu().numpy() for r in YOLO(model, task="semseg").predict(images, imgsz=imgsz, verbose=False)]


# (dtype, ndim, stride) of each output, per export_output
CONTRACT = {
    "classmap": [(np.uint8, 3, 1)],
    "classmap_int32": [(np.int32, 3, 1)],
    "classmap_conf": [(np.uint8, 3, 1), (np.float32, 3, 1)],
    "logits": [(np.float32, 4, 1)],
    "logits_stride4": [(np.float32, 4, 4)],
}


def check_output_contract(f: str, nc: int) -> str:
    """Run the export through Ultralytics' backend on a zero image of its input size and check that the outputs
    have the shapes and dtypes its metadata promises (`semseg_output`, `output_names`, `output_stride`)."""
    from ultralytics.nn.autobackend import AutoBackend

    backend = AutoBackend(f)
    meta = {k: ast.literal_eval(v) if isinstance(v, str) and v[:1] in "[{(" else v for k, v in backend.metadata.items()}
    mode = meta["semseg_output"]  # ONNX keeps every metadata value as a string: lists are parsed above
    h, w = meta["imgsz"]
    y = backend(torch.zeros(1, 3, h, w))
    outs = [
        np.asarray(o.cpu() if isinstance(o, torch.Tensor) else o) for o in (y if isinstance(y, (list, tuple)) else [y])
    ]
    assert len(outs) == len(meta["output_names"]) == len(CONTRACT[mode]), (mode, [o.shape for o in outs])
    stride = int(meta["output_stride"])
    for o, (dtype, ndim, s) in zip(outs, CONTRACT[mode]):
        assert s == stride and o.dtype == dtype and o.ndim == ndim, (f, mode, o.dtype, o.shape)
        assert o.shape == ((1, h // s, w // s) if ndim == 3 else (1, nc, h // s, w // s)), (f, mode, o.shape)
    return mode


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


# Runtimes too heavy or conflicting for the dev extra (verified by hand, see docs/deploy.md): run when installed
LITERT = pytest.mark.skipif(not _installed("litert_torch", "ai_edge_litert"), reason="litert-torch not installed")
PADDLE = pytest.mark.skipif(not _installed("paddle", "x2paddle"), reason="paddlepaddle/x2paddle not installed")
EXECUTORCH = pytest.mark.skipif(not _installed("executorch"), reason="executorch not installed")
# Not in the dev extra: importing MNN's converter pip-installs a package that breaks onnx (see pyproject.toml)
MNN = pytest.mark.skipif(not _installed("MNN"), reason="MNN not installed")


@pytest.mark.parametrize(
    "fmt,args,kinds,mode",
    [
        ("onnx", ["imgsz=128,256"], ["rect"], "classmap"),  # static at the 1:2 images' shape
        ("onnx", ["imgsz=128"], ["square"], "classmap"),  # static square, square images
        ("onnx", ["dynamic=True", "imgsz=256"], ["rect", "square"], "classmap"),
        ("openvino", ["imgsz=128,256"], ["rect"], "classmap"),
        ("openvino", ["dynamic=True", "imgsz=256"], ["rect", "square"], "classmap"),
        ("torchscript", ["imgsz=128,256"], ["rect"], "classmap"),
        ("ncnn", ["imgsz=128,256"], ["rect"], "logits_stride4"),  # NCNN cannot load an ArgMax
        ("ncnn", ["imgsz=128,256", "export_output=logits"], ["rect"], "logits"),
        pytest.param("mnn", ["imgsz=128,256"], ["rect"], "classmap", marks=MNN),
        pytest.param("litert", ["imgsz=128,256"], ["rect"], "logits_stride4", marks=LITERT),
        pytest.param(
            "paddle",
            ["imgsz=128,256"],
            ["rect"],
            "classmap",
            marks=[
                PADDLE,
                pytest.mark.xfail(
                    reason="PaddlePaddle 3.3 oneDNN executor rejects any YOLO graph at run "
                    "time ('ConvertPirAttribute2RuntimeAttribute'), detection ones too"
                ),
            ],
        ),  # fmt: skip
        pytest.param("executorch", ["imgsz=128,256"], ["rect"], "logits_stride4", marks=EXECUTORCH),
    ],
)
def test_exported_predictions_and_val_match_pytorch(weights, sources, fmt, args, kinds, mode):
    """A static export letterboxes to its own shape, so it is compared on images of that shape; dynamic on both.

    Inputs are at the images' own size: when they are rescaled, PyTorch resizes logits to the original size before
    the argmax while a class-map graph's output is resized with nearest, which differs at class boundaries by design.
    The export's real outputs (through Ultralytics' backend for the format) match its metadata.
    """
    from ultralytics import YOLO

    f = _export(weights, fmt, *args)
    assert check_output_contract(f, nc=8) == mode
    for kind in kinds:
        imgsz = {"rect": 256, "square": 128}[kind]  # the sources' long side
        ref, got = _maps(str(weights), sources[kind], imgsz), _maps(f, sources[kind], imgsz)
        for a, b in zip(ref, got):
            assert a.shape == b.shape and (a == b).mean() >= 0.999, (fmt, kind, (a == b).mean())
    if kinds == ["square"]:
        return  # the validation images are 1:2
    kw = dict(data="synthetic-streets.yaml", imgsz=256, batch=1, plots=False, verbose=False)
    m_ref = YOLO(str(weights)).val(**kw).semseg.IoU
    m_exp = YOLO(f, task="semseg").val(**kw).semseg.IoU
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
        assert ast.literal_eval(meta["output_names"]) == [o[0] for o in outs]
        assert [(o.name, o.type, len(o.shape)) for o in s.get_outputs()] == outs
        if mode.startswith("classmap"):  # the fast tail: a Resize ONNX Runtime keeps in NCHW, ArgMax over channels
            nodes = onnx.load(f).graph.node
            resize = [n for n in nodes if n.op_type == "Resize"][-1]
            argmax = next(n for n in nodes if n.op_type == "ArgMax")
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in [*resize.attribute, *argmax.attribute]}
            assert attrs["coordinate_transformation_mode"] == b"pytorch_half_pixel" and attrs["axis"] == 1, attrs
            assert argmax.input[0] == resize.output[0]
        for h, w in [(128, 256), (50, 77), (97, 130)]:  # any size, also not multiples of 32
            y = s.run(None, {"images": np.random.rand(1, 3, h, w).astype(np.float32)})
            size = ((h + 3) // 4, (w + 3) // 4) if mode == "logits_stride4" else (h, w)
            assert all(o.shape[-2:] == size for o in y), (mode, [o.shape for o in y])
        r = YOLO(f).predict(sources["rect"][0], imgsz=256, return_conf=True, verbose=False)[0].semseg
        assert (r.data.numpy() == ref.data.numpy()).mean() >= 0.999, mode
        if r.conf is not None:
            agree = r.data == ref.data
            assert torch.allclose(r.conf[agree], ref.conf[agree], atol=2e-3), mode


def test_two_class_onnx_tail_is_the_argmax_of_the_logits(tmp_path):
    """Two classes: the ONNX class map is the sign of the upsampled logit margin (no ArgMax in the graph); it must
    equal the argmax of the exported full-size logits, and the confidence their max softmax probability."""
    import onnx
    import onnxruntime as ort
    from ultralytics import YOLO
    from ultralytics.utils import YAML

    cfg = {k: v for k, v in YOLO("yolo11n-semseg.yaml").model.yaml.items() if k != "yaml_file"}
    YAML.save(tmp_path / "yolo11n-semseg.yaml", {**cfg, "nc": 2})
    model = YOLO(str(tmp_path / "yolo11n-semseg.yaml"))
    head = model.model.model[-1]
    for classifier in (head.classifier, head.detail[-1]):  # random scores of both signs: both classes in the map
        torch.nn.init.normal_(classifier.weight, std=1.0), torch.nn.init.zeros_(classifier.bias)
    outputs = {}
    for mode in ("logits", "classmap", "classmap_int32", "classmap_conf"):
        f = Path(model.export(format="onnx", imgsz=[96, 160], export_output=mode, verbose=False))
        outputs[mode] = f.rename(tmp_path / f"{mode}.onnx")
    ops = [n.op_type for n in onnx.load(outputs["classmap"]).graph.node]
    assert "ArgMax" not in ops and ops[-2:] == ["Greater", "Cast"], ops[-8:]
    x = np.random.default_rng(0).random((1, 3, 96, 160), dtype=np.float32)
    run = {m: ort.InferenceSession(str(f), providers=["CPUExecutionProvider"]).run(None, {"images": x})
           for m, f in outputs.items()}  # fmt: skip
    logits = torch.from_numpy(run["logits"][0])
    ref = logits.argmax(1).numpy()
    assert run["classmap"][0].dtype == np.uint8 and run["classmap_int32"][0].dtype == np.int32
    for mode in ("classmap", "classmap_int32", "classmap_conf"):
        assert (run[mode][0] == ref).mean() >= 0.999 and 0 < ref.mean() < 1, mode  # both classes present
    conf = logits.softmax(1).max(1).values.numpy()
    assert np.allclose(run["classmap_conf"][1], conf, atol=1e-4)


def test_coreml_metadata_matches_graph(weights):
    """Core ML has no uint8 outputs: the class map is int32 and the metadata says so. Its runtime is macOS-only, so
    the converted graph's declared outputs are read from the spec."""
    ct = pytest.importorskip("coremltools")
    f = _export(weights, "coreml", "imgsz=128,256")
    spec = ct.models.MLModel(f, skip_model_load=True).get_spec()
    meta = dict(spec.description.metadata.userDefined)
    assert meta["semseg_output"] == "classmap_int32" and ast.literal_eval(meta["output_names"]) == ["classmap"]
    (out,) = spec.description.output
    dtype = ct.proto.FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(out.type.multiArrayType.dataType)
    assert list(out.type.multiArrayType.shape) == [1, 128, 256] and dtype == "INT32"


def test_formats_without_class_maps_refuse_them(weights):
    """NCNN cannot load an ArgMax, Ultralytics' LiteRT backend misreads 3-D outputs, ExecuTorch fails to run the
    class-map tail: refused before converting."""
    for fmt in ("ncnn", "litert", "executorch"):
        p = run_cli("export", f"model={weights}", f"format={fmt}", "imgsz=64", "export_output=classmap", check=False)
        assert p.returncode != 0
        assert f"format={fmt} cannot return export_output=classmap" in p.stderr
        assert "Export with export_output=logits_stride4" in p.stderr


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
