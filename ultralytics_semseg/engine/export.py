"""Export hooks: the output contract of exported semseg models.

Ultralytics' exporter only configures its own heads, so two callbacks, registered for every model, act on semseg
models only: before the export the head is switched to its export outputs (for every format: ONNX, TorchScript,
`torch.export`-based LiteRT/ExecuTorch, PNNX ...) with the chosen `export_output`, and the metadata records what the
graph really returns; after an ONNX export the graph outputs get readable names.
"""

from __future__ import annotations

from pathlib import Path

from ultralytics_semseg.compat import int8_enabled
from ultralytics_semseg.constants import IGNORE, PAD_VALUE, TASK

# Formats that cannot carry a class map: the outputs they accept (the first is their default) and why. Every other
# format defaults to `classmap`.
FORMAT_OUTPUTS = {
    "ncnn": (
        ("logits_stride4", "logits"),
        "NCNN has no ArgMax layer (the graph exports but cannot load: 'layer torch.argmax not exists')",
    ),
    "litert": (
        ("logits_stride4", "logits"),
        "Ultralytics' LiteRT backend rescales every 3-D output as boxes, which corrupts a (B, H, W) class map, and "
        "the LiteRT GPU delegate cannot compile ArgMax",
    ),
    "executorch": (
        ("logits_stride4", "logits"),
        "the ExecuTorch runtime fails on the class-map tail (ArgMax + uint8: 'method->execute() failed with error "
        "0x12'; logits run)",
    ),
}

# Imported while Ultralytics itself is still importing, so the model modules load inside the hooks.


def _semseg_head(exporter):
    model = getattr(exporter, "model", None)
    if getattr(model, "task", None) != TASK:
        return None
    return model.model[-1]


def on_export_start(exporter) -> None:
    """Set the head's output mode from `export_output=` and record the contract in the model metadata."""
    head = _semseg_head(exporter)
    if head is None:
        return
    from ultralytics_semseg.nn.outputs import EXPORT_OUTPUTS

    fmt = exporter.args.format
    allowed, reason = FORMAT_OUTPUTS.get(fmt, ((), ""))
    mode = getattr(exporter.args, "export_output", None) or (allowed[0] if allowed else "classmap")
    if mode not in EXPORT_OUTPUTS:
        raise ValueError(f"export_output='{mode}' is not one of {list(EXPORT_OUTPUTS)}")
    if allowed and mode not in allowed:
        raise ValueError(
            f"format={fmt} cannot return export_output={mode}: {reason}. Export with export_output={allowed[0]} "
            f"(or {' / '.join(allowed[1:])}); predict and val then resize the logits and take the argmax on the host."
        )
    no_uint8 = {"engine": "TensorRT < 10", "coreml": "Core ML", "mlmodel": "Core ML"}.get(fmt)
    if no_uint8 and mode in {"classmap", "classmap_conf"} and (fmt != "engine" or not tensorrt_supports_uint8()):
        from ultralytics.utils import LOGGER

        LOGGER.warning(f"{no_uint8} has no uint8 outputs: exporting export_output=classmap_int32 instead of {mode}")
        mode = "classmap_int32"
    if fmt == "onnx" and int8_enabled(exporter.args):
        from ultralytics.utils import LOGGER

        LOGGER.warning(
            "ONNX Runtime static INT8 (QDQ) quantizes only the convolutions and can run slower than FP32 for semseg "
            "models on CPU (docs/deploy.md, 'INT8 on CPU'); for INT8 on CPU use format=openvino quantize=8"
        )
    head.export, head.export_output = True, mode  # whatever the format traces or exports with
    # the class-map tail shaped for ONNX Runtime's CPU optimizer; formats converted from ONNX get the plain one
    head.ort_tail = fmt == "onnx"
    head.flat_argmax = fmt == "openvino"  # OpenVINO's ArgMax on the Resize's blocked layout: see ExportOutputs
    # OpenVINO runs a Pad of dynamic size with a reference kernel: dynamic graphs pad by Concat (SemSegModel)
    exporter.model.pad_by_concat = fmt == "openvino" and bool(exporter.args.dynamic)
    exporter.output_shape = _output_shapes(exporter)  # the exporter's dry run saw the PyTorch logits
    exporter.metadata.update(
        {
            "semseg_output": mode,
            "output_names": list(EXPORT_OUTPUTS[mode]),
            "output_stride": head.out_stride if mode == "logits_stride4" else 1,
            "pad_value": PAD_VALUE,
            "letterbox": "center",
            "ignore_index": IGNORE,
        }
    )


def _output_shapes(exporter) -> tuple:
    """Shapes of what the exported graph returns, from one forward pass of the model in export mode."""
    import torch

    with torch.no_grad():
        y = exporter.model(exporter.im)
    return tuple(y.shape) if isinstance(y, torch.Tensor) else tuple(tuple(x.shape) for x in y)


def on_export_end(exporter) -> None:
    """Give the outputs of an exported ONNX graph their contract names ('classmap', 'confidence', 'logits')."""
    head = _semseg_head(exporter)
    f = Path(str(exporter.file)).with_suffix(".onnx")
    if int8_enabled(exporter.args):  # Ultralytics' ONNX Runtime static INT8 writes <stem>_int8.onnx
        f = f.with_name(f"{f.stem}_int8.onnx")
    if head is None or exporter.args.format != "onnx" or not f.is_file():
        return
    import onnx
    from ultralytics.utils import LOGGER

    from ultralytics_semseg.nn.outputs import EXPORT_OUTPUTS

    model = onnx.load(str(f))
    names = EXPORT_OUTPUTS[head.export_output]
    rename = {o.name: n for o, n in zip(model.graph.output, names) if o.name != n}
    if not rename:
        return
    for node in model.graph.node:
        node.output[:] = [rename.get(x, x) for x in node.output]
        node.input[:] = [rename.get(x, x) for x in node.input]
    for o in model.graph.output:
        o.name = rename.get(o.name, o.name)
        dims = o.type.tensor_type.shape.dim
        for d, label in zip(dims, ("batch", *(("classes",) if len(dims) == 4 else ()), "height", "width")):
            if d.dim_param:
                d.dim_param = label
    onnx.save(model, str(f))
    LOGGER.info(f"ONNX outputs named {list(names)} ({head.export_output})")


def tensorrt_supports_uint8() -> bool:
    """TensorRT 10 added uint8 network outputs; Jetson's TensorRT 8.x rejects them (read without importing it)."""
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("tensorrt", "tensorrt-cu13", "tensorrt-cu12", "tensorrt-cu11"):
        try:
            return int(version(dist).split(".")[0]) >= 10
        except (PackageNotFoundError, ValueError):
            continue
    return True  # not installed here: the exporter itself will ask for it


def calibration_loader(exporter, prefix: str = ""):
    """INT8 calibration batches from a semseg dataset, letterboxed to the export shape like `predict` does.

    Yields Ultralytics-style batches whose 'img' is uint8 (B, 3, h, w), what every INT8 backend consumes.
    """
    from ultralytics.data.build import build_dataloader
    from ultralytics.utils import LOGGER

    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.data.dataset import SemSegDataset

    split = exporter.args.split or "val"
    data = check_semseg_dataset(exporter.args.data, split=split)
    LOGGER.info(f"{prefix} collecting INT8 calibration images from '{data[split]}'")
    dataset = SemSegDataset(
        data[split], data=data, imgsz=tuple(exporter.imgsz), augment=False, hyp=exporter.args, prefix=prefix
    )
    batch = max(min(exporter.args.batch, len(dataset)), 1)
    if len(dataset) < 300:
        LOGGER.warning(f"{prefix} >300 images recommended for INT8 calibration, found {len(dataset)} images.")
    return build_dataloader(dataset, batch=batch, workers=0, shuffle=False, drop_last=True)
