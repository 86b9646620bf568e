"""What an exported semseg model returns: the output contract (`EXPORT_OUTPUTS`) and the tail that produces it.

The head (`nn/head.py`) is a decoder; `ExportOutputs`, which it inherits, turns its stride-4 logits into the outputs
chosen with `export_output=` while a model is exported. The export hook (`engine/export.py`) validates the choice and
sets it on the head; `SemSegModel` sets `export_size`, the input size before padding to the stride.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ultralytics_semseg.utils.ops import class_map, upsample_logits

__all__ = ("EXPORT_OUTPUTS", "ExportOutputs")

# What an exported graph returns (`export_output=` at export time), see docs/deploy.md
EXPORT_OUTPUTS = {
    "classmap": ("classmap",),  # (B, H, W) uint8 class ids at input size (int32 above 256 classes)
    "classmap_int32": ("classmap",),  # the same as int32, for runtimes without uint8 outputs (TensorRT < 10)
    "classmap_conf": ("classmap", "confidence"),  # + (B, H, W) float max softmax probability
    "logits": ("logits",),  # (B, nc, H, W) float logits at input size
    "logits_stride4": ("logits",),  # (B, nc, H/4, W/4): no Resize in the graph, for NPUs that cannot compile it
}


def _torch_exporting() -> bool:
    """`torch.compiler.is_exporting()` where this torch has it (2.4+)."""
    compiler = getattr(torch, "compiler", None)
    return bool(getattr(compiler, "is_exporting", lambda: False)())


class _UpsampleForArgMax(torch.autograd.Function):
    """Bilinear x`scale` upsampling of (B, C, h, w) logits; in ONNX a Resize that ONNX Runtime keeps in plain NCHW.

    ONNX Runtime's CPU optimizer moves a `half_pixel` Resize after a convolution into its blocked NCHWc layout (then
    the upsampled logits need a full-resolution, single-threaded reorder before the ArgMax) or into NHWC (then the
    ArgMax runs over the last axis, about twice as slow as over channels). `pytorch_half_pixel` is the same mapping
    for every output longer than one pixel, and the optimizer leaves it alone: a plain NCHW Resize and an ArgMax over
    channels (timings in docs/benchmarks.md).
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, scale: int) -> torch.Tensor:
        return upsample_logits(logits, scale_factor=scale)

    @staticmethod
    def symbolic(g, logits, scale: int):
        roi = g.op("Constant", value_t=torch.tensor([], dtype=torch.float32))
        scales = g.op("Constant", value_t=torch.tensor([1.0, 1.0, scale, scale], dtype=torch.float32))
        mode = {"mode_s": "linear", "coordinate_transformation_mode_s": "pytorch_half_pixel"}
        return g.op("Resize", logits, roi, scales, **mode)


class ExportOutputs:
    """The export tail of `SemSegHead`: class-level settings the export hook changes, and the graph's outputs.

    Reads the head's `out_stride`, the stride of the logits it decodes.
    """

    export = False  # emit the export outputs (set while tracing anyway)
    export_output = "classmap"  # one of EXPORT_OUTPUTS
    ort_tail = True  # ONNX Runtime's fast class-map tail (format=onnx only; TensorRT/TF conversions get the plain one)
    flat_argmax = False  # OpenVINO's fast class-map tail (format=openvino): the ArgMax over (B, C, H*W), see below
    export_size = None  # (H, W) the outputs are cropped to: the input before SemSegModel padded it to the stride

    @property
    def exporting(self) -> bool:
        """True while exported: the head then returns `export_outputs`.

        `export` is set by the export hook for every format; inside ONNX export, JIT tracing or `torch.export` (the
        route of LiteRT and ExecuTorch) it is true as well, for models exported directly.
        """
        return self.export or torch.onnx.is_in_onnx_export() or torch.jit.is_tracing() or _torch_exporting()

    def export_outputs(self, logits: torch.Tensor):
        """The outputs of an exported graph for `export_output`; upsampling and argmax run inside the graph.

        With `export_size` set, the outputs are cropped to it. The plain tail crops the upsampled logits before the
        argmax, so that a uint8 class map comes straight from its Cast as the graph output: TensorRT's ONNX parser
        rejects a uint8 tensor anywhere else ('TensorRT does not support UINT8 types for intermediate tensors').
        """
        mode = self.export_output
        if mode == "logits_stride4":
            return self.crop(logits, self.out_stride)
        if mode == "logits":
            return self.crop(F.interpolate(logits, scale_factor=self.out_stride, mode="bilinear", align_corners=False))
        if self.ort_tail and torch.onnx.is_in_onnx_export():  # ONNX Runtime's tail: the ArgMax reads the Resize
            if logits.shape[1] == 2:
                return self.crop(self.binary_outputs(logits, mode))
            return self.crop(self.class_map_outputs(_UpsampleForArgMax.apply(logits, self.out_stride), mode))
        if self.flat_argmax and mode != "classmap_conf":
            # OpenVINO's CPU plugin keeps the Resize output in a blocked channel layout, where its TopK (the ArgMax)
            # takes 32 of a 512x1024 INT8 model's 84 ms; over (B, C, H*W) it reads a plain layout, the whole tail
            # about twice as fast, with the same class map (docs/deploy.md, 'INT8 on CPU'). The crop of a dynamic
            # export comes after the ArgMax: OpenVINO slices the uint8 map instead of nc float planes
            logits = upsample_logits(logits, scale_factor=self.out_stride)
            b, _, h, w = logits.shape
            return self.crop(self.class_map_outputs(logits.flatten(2), mode).reshape(b, h, w))
        logits = self.crop(upsample_logits(logits, scale_factor=self.out_stride))
        return self.class_map_outputs(logits, mode)

    def crop(self, y, stride: int = 1):
        """`y` (a tensor or a tuple of them) cropped to `export_size` at `stride`; unchanged without `export_size`."""
        if self.export_size is None:
            return y
        h, w = ((d + stride - 1) // stride for d in self.export_size)
        return tuple(o[..., :h, :w] for o in y) if isinstance(y, tuple) else y[..., :h, :w]

    @staticmethod
    def class_map_outputs(logits: torch.Tensor, mode: str):
        """The class map (and confidence for `classmap_conf`) of full-size logits."""
        if mode == "classmap_conf":
            conf, _ = logits.softmax(1).max(1)
            return class_map(logits), conf
        return class_map(logits, int32=mode == "classmap_int32")

    def binary_outputs(self, logits: torch.Tensor, mode: str):
        """Class map (and confidence) of a two-class model from the upsampled logit margin, without an ArgMax.

        Upsampling is linear, so `up(l1) - up(l0) == up(l1 - l0)`: one channel is upsampled instead of two, the
        class is `margin > 0` (0 on ties, as argmax) and the max softmax probability is `sigmoid(|margin|)`.
        """
        margin = logits[:, 1:] - logits[:, :1]
        margin = F.interpolate(margin, scale_factor=self.out_stride, mode="bilinear", align_corners=False).squeeze(1)
        classes = (margin > 0).to(torch.int32 if mode == "classmap_int32" else torch.uint8)
        return (classes, margin.abs().sigmoid()) if mode == "classmap_conf" else classes
