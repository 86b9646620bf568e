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

NC = 14  # classes of the packaged weights; the built-in streets' 8 are their first 8


def _private_copy(name: str, tmp_path_factory) -> Path:
    from ultralytics_semseg.cfg import WEIGHTS_DIR

    d = tmp_path_factory.mktemp("export")
    (d / "m.pt").write_bytes((WEIGHTS_DIR / name).read_bytes())
    return d / "m.pt"


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A private copy of the packaged weights, so exports of this module do not collide with other tests'.

    They predict every class of the built-in streets, so parity below 99.9 % of the pixels shows (a 2-epoch test run
    predicts one class everywhere, which any export reproduces).
    """
    return _private_copy("yolo11n-semseg.pt", tmp_path_factory)


@pytest.fixture(scope="module")
def weights26(tmp_path_factory) -> Path:
    """A private copy of the second packaged start, `yolo26n-semseg.pt` (our head on the YOLO26n backbone)."""
    return _private_copy("yolo26n-semseg.pt", tmp_path_factory)


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
    assert check_output_contract(f, nc=NC) == mode
    for kind in kinds:
        imgsz = {"rect": 256, "square": 128}[kind]  # the sources' long side
        ref, got = _maps(str(weights), sources[kind], imgsz), _maps(f, sources[kind], imgsz)
        assert len(np.unique(np.concatenate([a.ravel() for a in ref]))) >= 4  # a reference that can disagree
        for a, b in zip(ref, got):
            assert a.shape == b.shape and (a == b).mean() >= 0.999, (fmt, kind, (a == b).mean())
    if kinds == ["square"]:
        return  # the validation images are 1:2
    kw = dict(data="synthetic-streets.yaml", imgsz=256, batch=1, plots=False, verbose=False)
    m_ref = YOLO(str(weights)).val(**kw).semseg.IoU
    m_exp = YOLO(f, task="semseg").val(**kw).semseg.IoU
    assert abs(m_ref - m_exp) * 100 <= 0.1, (m_ref, m_exp)


@pytest.mark.parametrize(
    "fmt,mode",
    [("onnx", "classmap"), ("openvino", "classmap"), ("torchscript", "classmap"), ("ncnn", "logits_stride4")],
)
def test_yolo26n_start_exports_match_pytorch(weights26, sources, fmt, mode):
    """The YOLO26n start's backbone blocks (SPPF with a shortcut, C3k2 with attention, C2PSA) go through each exporter
    the YOLO11n start does, with the same output contract and the same class maps (static, the 1:2 images)."""
    f = _export(weights26, fmt, "imgsz=128,256")
    assert check_output_contract(f, nc=NC) == mode
    ref, got = _maps(str(weights26), sources["rect"], 256), _maps(f, sources["rect"], 256)
    assert len(np.unique(np.concatenate([a.ravel() for a in ref]))) >= 4  # a reference that can disagree
    for a, b in zip(ref, got):
        assert a.shape == b.shape and (a == b).mean() >= 0.999, (fmt, (a == b).mean())


def test_openvino_argmax_reads_a_flat_tensor(weights):
    """OpenVINO's class-map tail: the ArgMax (a TopK in OpenVINO) runs over (B, C, H*W), not over the Resize's
    (B, C, H, W) output, which the CPU plugin keeps in a blocked layout that made the TopK ~10x slower (the export
    parity above checks that the class maps stay the same)."""
    import openvino as ov

    f = _export(weights, "openvino", "imgsz=128,256")
    model = ov.Core().read_model(next(Path(f).glob("*.xml")))
    topk = [op for op in model.get_ops() if op.get_type_name() == "TopK"]
    assert len(topk) == 1 and topk[0].input(0).get_partial_shape().rank.get_length() == 3, topk
    assert topk[0].input(0).get_partial_shape().to_shape() == [1, NC, 128 * 256]


def test_dynamic_openvino_crops_the_class_map_of_any_input_size(weights):
    """A dynamic OpenVINO export pads inputs that are no multiple of 32 (by Concat: OpenVINO runs a Pad of dynamic
    size with a slow reference kernel) and crops back after its ArgMax (it slices the uint8 map, not nc float
    planes): the map has the input's size and equals PyTorch's."""
    import openvino as ov
    from ultralytics import YOLO

    f = _export(weights, "openvino", "dynamic=True", "imgsz=256")
    ops = {op.get_type_name() for op in ov.Core().read_model(next(Path(f).glob("*.xml"))).get_ops()}
    assert "Pad" not in ops and "Concat" in ops, ops
    compiled = ov.Core().compile_model(next(Path(f).glob("*.xml")), "CPU", {"INFERENCE_PRECISION_HINT": ov.Type.f32})
    torch_model = YOLO(str(weights)).model.float().eval()
    for b, h, w in [(1, 100, 150), (2, 96, 160)]:
        x = torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(h))
        got = np.asarray(next(iter(compiled(x.numpy()).values())))
        ref = _pytorch_class_map(torch_model, x)
        assert got.dtype == np.uint8 and got.shape == ref.shape == (b, h, w), (got.dtype, got.shape)
        assert len(np.unique(ref)) >= 5 and (got == ref).mean() >= 0.999, (b, h, w, (got == ref).mean())


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


# --------------------------------------------------------------------------------------------- TensorRT, up to TRT
# What TensorRT 10's ONNX parser accepts, from onnx/onnx-tensorrt docs/operators.md (release 10.x): opsets 9 to 20 in
# TensorRT 10.0 (24 in 10.15), and the operators below among those it marks supported (Y), limited to the ones YOLO
# semseg graphs use. Resize: modes nearest/linear, no antialias, the coordinate transformations listed. UINT8 only as a
# network input or output: ModelImporter.cpp `parseNode` fails any node with a UINT8 output that is not a graph
# output ('TensorRT does not support UINT8 types for intermediate tensors!').
TRT10_OPSETS = range(9, 21)
TRT10_OPS = {
    "Add", "ArgMax", "Cast", "Concat", "Constant", "Conv", "Div", "Gather", "Identity", "MatMul", "MaxPool", "Mod",
    "Mul", "Pad", "ReduceMax", "Relu", "Reshape", "Resize", "Shape", "Sigmoid", "Slice", "Softmax", "Split", "Squeeze",
    "Sub", "Transpose", "Unsqueeze",
}  # fmt: skip
TRT_RESIZE_COORDINATES = {
    b"half_pixel", b"pytorch_half_pixel", b"tf_half_pixel_for_nn", b"asymmetric", b"align_corners",
}  # fmt: skip


class _TensorRTReached(Exception):
    """Raised by the stand-in TensorRT parser: Ultralytics' engine export got as far as TensorRT itself."""


def _export_engine_until_tensorrt(monkeypatch, weights: Path, tmp_path: Path, trt_version: str, **kwargs) -> dict:
    """Run `YOLO(weights).export(format="engine", **kwargs)` through Ultralytics' real `Exporter` on the CPU.

    Two things stand in for the GPU machine: `device="cpu"` with Ultralytics' own `export_engine` minus its first
    statement (the assertion that the model is on a GPU; its ONNX export keeps FP32 on either device), and a stand-in
    `tensorrt` module of `trt_version` (also what `importlib.metadata` reports for 'tensorrt') whose ONNX parser
    snapshots the file handed to it and stops the export. Everything else is Ultralytics' and the plug-in's code: the
    export hooks, the ONNX export for format=engine, the INT8 calibration loader and `onnx2engine` up to the parser.
    Returns `onnx2engine`'s arguments and the path of the ONNX file the parser got.
    """
    import ast
    import inspect
    import textwrap
    from importlib import metadata
    from unittest import mock

    import ultralytics.engine.exporter as exporter_module
    import ultralytics.utils.export.engine as engine_module
    from ultralytics import YOLO

    inner = inspect.getclosurevars(exporter_module.Exporter.export_engine).nonlocals["inner_func"]  # under try_export
    tree = ast.parse(textwrap.dedent(inspect.getsource(inner)))
    body = tree.body[0].body
    assert isinstance(body[1], ast.Assert) and "device" in ast.unparse(body[1].test), ast.unparse(body[1])
    del body[1]  # body[0] is the docstring
    namespace = dict(vars(exporter_module))
    exec(compile(tree, inspect.getsourcefile(inner), "exec"), namespace)
    monkeypatch.setattr(exporter_module.Exporter, "export_engine", namespace["export_engine"])

    calls = {}
    onnx2engine = engine_module.onnx2engine

    def record(*args, **kw):
        calls.update(inspect.signature(onnx2engine).bind(*args, **kw).arguments)
        return onnx2engine(*args, **kw)

    def parse_from_file(f):
        calls["parsed"] = tmp_path / "parsed.onnx"
        calls["parsed"].write_bytes(Path(f).read_bytes())
        raise _TensorRTReached(f)

    trt = mock.MagicMock(__version__=trt_version)
    trt.OnnxParser.return_value.parse_from_file.side_effect = parse_from_file
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    monkeypatch.setattr(engine_module, "onnx2engine", record)
    version = metadata.version
    monkeypatch.setattr(metadata, "version", lambda d: trt_version if d.startswith("tensorrt") else version(d))
    engine_module.get_tensorrt_logger.cache_clear()  # cached per process: no stand-in logger left behind
    model = tmp_path / "m.pt"
    model.write_bytes(weights.read_bytes())
    try:
        with pytest.raises(_TensorRTReached):
            YOLO(str(model)).export(format="engine", device="cpu", verbose=False, **kwargs)
    finally:
        engine_module.get_tensorrt_logger.cache_clear()
    assert Path(calls["onnx_file"]).resolve() == (tmp_path / "m.onnx").resolve()
    return calls


def _pytorch_class_map(model, x: torch.Tensor) -> np.ndarray:
    """The class map of the PyTorch model: logits upsampled to the input size, then the argmax (as `predict`)."""
    import torch.nn.functional as F

    from ultralytics_semseg.constants import PAD_VALUE, STRIDE

    h, w = x.shape[2:]
    xp = F.pad(x, (0, -w % STRIDE, 0, -h % STRIDE), value=PAD_VALUE / 255)  # the graph pads to the stride as well
    with torch.no_grad():
        logits = model(xp)
    up = F.interpolate(logits, scale_factor=4, mode="bilinear", align_corners=False)
    return up.argmax(1)[:, :h, :w].numpy()


@pytest.mark.parametrize(
    "trt_version,kwargs,dtype",
    [
        ("10.13.0", {"half": True, "dynamic": True, "batch": 2, "imgsz": [128, 256]}, np.uint8),
        ("10.13.0", {"int8": True, "dynamic": True, "batch": 4, "imgsz": 128, "data": "synthetic-streets.yaml"},
         np.uint8),
        ("8.6.1", {"half": True, "imgsz": [128, 256]}, np.int32),  # Jetson's TensorRT 8: no uint8 outputs
    ],
    ids=["trt10-fp16-dynamic", "trt10-int8-dynamic", "trt8-fp16-static"],
)  # fmt: skip
def test_engine_export_hands_tensorrt_a_graph_it_parses(monkeypatch, toy_data, tmp_path, trt_version, kwargs, dtype):
    """`yolo export format=engine` up to TensorRT: the ONNX graph Ultralytics' `export_engine` gives TensorRT's parser
    has the opset Ultralytics picks (one TensorRT 10 parses), dynamic batch/height/width when asked, only operators
    TensorRT 10's parser supports, the plain class-map tail (Resize, ArgMax over classes, Cast) with a uint8 output
    only where TensorRT >= 10 is installed and no other uint8 tensor, and it equals PyTorch in ONNX Runtime; INT8
    calibration batches are letterboxed semseg images of the engine's input shape.

    The packaged weights predict all their 14 classes on noise, so a wrong tail or a drift shows (the 2-epoch
    `weights` of this module predict one class everywhere).
    """
    import onnx
    import onnxruntime as ort
    from ultralytics import YOLO
    from ultralytics.utils.export.engine import best_onnx_opset

    from ultralytics_semseg.cfg import WEIGHTS_DIR
    from ultralytics_semseg.constants import PAD_VALUE

    weights = WEIGHTS_DIR / "yolo11n-semseg.pt"
    calls = _export_engine_until_tensorrt(monkeypatch, weights, tmp_path, trt_version, **kwargs)
    dynamic, batch = kwargs.get("dynamic", False), kwargs.get("batch", 1)
    h, w = (kwargs["imgsz"], kwargs["imgsz"]) if isinstance(kwargs["imgsz"], int) else kwargs["imgsz"]
    assert calls["quantize"] == (8 if kwargs.get("int8") else 16) and calls["dynamic"] is dynamic
    assert tuple(calls["shape"]) == (batch, 3, h, w)  # the optimization profile's opt shape and the calibration shape

    model = onnx.load(calls["parsed"])
    onnx.checker.check_model(model, full_check=True)
    opset = next(o.version for o in model.opset_import if o.domain in {"", "ai.onnx"})
    assert opset == best_onnx_opset(onnx), opset  # Ultralytics' choice for this torch (TensorRT 8.6 parses <= 17)
    assert opset in TRT10_OPSETS or not trt_version.startswith("10."), opset
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["task"] == "semseg" and meta["semseg_output"] == ("classmap" if dtype == np.uint8 else "classmap_int32")

    (inp,), (out,) = model.graph.input, model.graph.output
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == (["batch", 3, "height", "width"] if dynamic else [batch, 3, h, w]), dims
    out_dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert all(isinstance(d, str) for d in out_dims) if dynamic else out_dims == [batch, h, w], out_dims
    onnx_dtype = {np.uint8: onnx.TensorProto.UINT8, np.int32: onnx.TensorProto.INT32}[dtype]
    assert out.type.tensor_type.elem_type == onnx_dtype

    ops = {n.op_type for n in model.graph.node}
    assert ops <= TRT10_OPS, ops - TRT10_OPS
    producer = {o: n for n in model.graph.node for o in n.output}
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*inferred.value_info, *inferred.output]}
    uint8 = {n for n in producer if types.get(n) == onnx.TensorProto.UINT8}
    assert uint8 == ({out.name} if dtype == np.uint8 else set()), uint8  # TensorRT: uint8 only as a graph output
    cast = producer[out.name]  # the tail: Resize -> (crop) -> ArgMax over classes -> Cast, the graph output
    argmax = producer[cast.input[0]]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in [*cast.attribute, *argmax.attribute]}
    assert cast.op_type == "Cast" and attrs["to"] == onnx_dtype, (cast.op_type, attrs)
    assert (
        argmax.op_type == "ArgMax" and attrs["axis"] == 1 and not attrs["keepdims"] and not attrs["select_last_index"]
    )
    node = producer[argmax.input[0]]
    while node.op_type == "Slice":
        node = producer[node.input[0]]
    assert node.op_type == "Resize", node.op_type
    for resize in (n for n in model.graph.node if n.op_type == "Resize"):
        a = {x.name: onnx.helper.get_attribute_value(x) for x in resize.attribute}
        assert a.get("mode", b"nearest") in {b"nearest", b"linear"} and not a.get("antialias", 0), (resize.name, a)
        assert a.get("coordinate_transformation_mode", b"half_pixel") in TRT_RESIZE_COORDINATES, (resize.name, a)

    # ONNX Runtime against PyTorch: the export shape, and other batch sizes and shapes (not multiples of 32) if dynamic
    torch_model = YOLO(str(weights)).model.float().eval()
    session = ort.InferenceSession(str(calls["parsed"]), providers=["CPUExecutionProvider"])
    shapes = [(batch, h, w), (1, 96, 160), (3, 100, 150)] if dynamic else [(batch, h, w)]
    for b, hh, ww in shapes:
        x = torch.rand(b, 3, hh, ww, generator=torch.Generator().manual_seed(hh))
        (got,) = session.run(None, {"images": x.numpy()})
        ref = _pytorch_class_map(torch_model, x)
        assert got.dtype == dtype and got.shape == ref.shape == (b, hh, ww), (got.dtype, got.shape, ref.shape)
        assert len(np.unique(ref)) >= 5, np.unique(ref)  # a map of one class could not show a wrong argmax
        assert (got == ref).mean() >= 0.999, (b, hh, ww, (got == ref).mean())

    if kwargs.get("int8"):  # what TensorRT's calibrator reads: next(loader)["img"] / 255 at the profile's shape
        loader = calls["dataset"]
        assert type(loader.dataset).__name__ == "SemSegDataset"
        val = sorted((toy_data["path"] / "images" / "val").glob("*.jpg"))
        assert sorted(Path(f) for f in loader.dataset.im_files) == val
        batches = list(loader)
        assert len(batches) == len(val) // batch > 0
        for b in batches:
            img = b["img"]
            assert img.dtype == torch.uint8 and tuple(img.shape) == tuple(calls["shape"]) and img.is_contiguous()
            # 1:2 images letterboxed into the square input like predict: centred, grey bands above and below
            assert (img[:, :, : h // 4] == PAD_VALUE).all() and (img[:, :, -(h // 4) :] == PAD_VALUE).all()
            assert img[:, :, h // 4 : -(h // 4)].float().std() > 10
