"""Inference setup shared by the validator and the predictor, so that both run a loaded model the same way."""

from __future__ import annotations

from types import SimpleNamespace

from ultralytics_semseg.compat import fp16_enabled, openvino_fp32
from ultralytics_semseg.nn.model import configure_inference


def setup_inference(model, args: SimpleNamespace, weights=None) -> None:
    """Prepare a loaded model for semseg inference with the validator's or predictor's `args`.

    PyTorch models get the sliding-window and TTA settings (`slide_window`, `slide_stride`, `tta_scales`); Ultralytics'
    OpenVINO backend is recompiled in FP32 unless half precision was asked for (see `compat.openvino_fp32`).

    Args:
        model (AutoBackend | torch.nn.Module): The loaded model: Ultralytics' backend, or the trainer's model.
        args (SimpleNamespace): Validator or predictor arguments.
        weights (str | Path, optional): The exported model's path, `args.model` by default.
    """
    configure_inference(getattr(model, "model", model), args)
    if getattr(model, "format", None) == "openvino" and not fp16_enabled(args):
        openvino_fp32(model, weights or args.model)
