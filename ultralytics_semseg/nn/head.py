"""SemSegHead: a light dense decoder that fuses four pyramid levels and predicts at stride 4."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.nn.modules import Conv, DWConv

__all__ = ("EXPORT_OUTPUTS", "SemSegAuxHead", "SemSegHead")

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


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def class_map(logits: torch.Tensor, int32: bool = False, dim: int = 1) -> torch.Tensor:
    """Argmax over classes as the smallest integer type that holds every class id (uint8 up to 256 classes)."""
    return logits.argmax(dim).to(torch.uint8 if logits.shape[dim] <= 256 and not int32 else torch.int32)


def upsample_logits(logits: torch.Tensor, size=None, scale_factor=None) -> torch.Tensor:
    """Bilinear upsampling of (B, C, h, w) logits in channels-last memory.

    PyTorch's CPU kernel is faster in channels-last, and the argmax over classes that follows reads each
    pixel's scores contiguously. The result has the usual (B, C, H, W) shape.
    """
    x = logits.float().contiguous(memory_format=torch.channels_last)
    return F.interpolate(x, size=size, scale_factor=scale_factor, mode="bilinear", align_corners=False)


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


class SemSegAuxHead(nn.Module):
    """Training-only auxiliary classifier on the stride-16 features (deep supervision); never run at inference."""

    def __init__(self, c1: int, c: int, nc: int):
        """A 3x3 convolution from `c1` to `c` channels, dropout and a 1x1 classifier to `nc` classes."""
        super().__init__()
        self.conv = Conv(c1, c, 3)
        self.drop = nn.Dropout2d(0.1)
        self.classifier = nn.Conv2d(c, nc, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Auxiliary logits at the resolution of `x`."""
        return self.classifier(self.drop(self.conv(x)))


class SemSegHead(nn.Module):
    """Dense decoder: FPN-style fusion of P3-P5 classified at stride 8, plus detail logits from P2 at stride 4.

    P3, P4 and P5 are projected to `c` channels, upsampled to stride 8 and summed (context from P5, semantics from
    P4/P3), mixed by a depthwise-separable 3x3 block and classified. These context logits are upsampled to stride 4 and
    a light branch on P2 (1x1 projection, depthwise 3x3, 1x1 classifier) adds its detail logits, so that thin
    structures (poles, signs) keep their edges (the skip of FCN-8s, at stride 4). The decoder's only work at stride
    4 is that narrow branch and an `nc`-channel upsampling: concatenating `c`-channel features there instead cost 3-4 %
    of the model's ONNX Runtime latency at 512x1024 for +0.2 mean mIoU, within the seed spread (docs/benchmarks.md). The
    stride-4 layers use ReLU, which runtimes fuse into the convolution (SiLU would be a separate pass).

    Outputs:
        - training: `(logits, aux_logits)`, logits at stride 4 and aux logits at stride 16 (None without aux head).
        - inference: logits `(B, nc, H/4, W/4)`.
        - export (`export=True`, which the export hook sets for every format, or ONNX export, JIT tracing and
          `torch.export`): by default the class map `(B, H, W)` at the input size, uint8 for up to 256 classes
          (~nc*4 times fewer bytes than float logits); other outputs are chosen with `export_output`, see
          `EXPORT_OUTPUTS`.

    Args:
        nc (int): Number of classes.
        ch (list[int]): Channels of the inputs (P2, P3, P4, P5).
        c (int): Decoder width.
        aux (bool): Whether to build the auxiliary head on P4.

    Examples:
        >>> head = SemSegHead(19, [64, 64, 128, 256], c=64)
        >>> xs = [torch.zeros(1, c, 64 // s, 64 // s) for c, s in zip([64, 64, 128, 256], [4, 8, 16, 32])]
        >>> head.eval()(xs).shape
        torch.Size([1, 19, 16, 16])
    """

    export = False  # emit the export outputs (set while tracing anyway)
    export_output = "classmap"  # one of EXPORT_OUTPUTS
    ort_tail = True  # ONNX Runtime's fast class-map tail (format=onnx only; TensorRT/TF conversions get the plain one)
    out_stride = 4
    export_size = None  # (H, W) the export outputs are cropped to: the input before SemSegModel padded it to the stride

    def __init__(self, nc: int, ch: list[int], c: int = 64, aux: bool = True):
        """Build the lateral projections, the fusion block, both classifiers and the optional aux head."""
        super().__init__()
        assert len(ch) == 4, f"SemSegHead needs 4 inputs (P2, P3, P4, P5), got {len(ch)}"
        self.nc = nc
        c_detail = max(c // 2, 16)
        self.lateral = nn.ModuleList(Conv(x, c, 1) for x in ch[1:])
        self.fuse = nn.Sequential(DWConv(c, c, 3), Conv(c, c, 1))
        self.classifier = nn.Conv2d(c, nc, 1)  # context logits at stride 8
        self.detail = nn.Sequential(  # detail logits at stride 4
            Conv(ch[0], c_detail, 1, act=nn.ReLU()),
            DWConv(c_detail, c_detail, 3, act=nn.ReLU()),
            nn.Conv2d(c_detail, nc, 1),
        )
        self.aux = SemSegAuxHead(ch[2], c, nc) if aux else None

    def fuse_levels(self, p3: torch.Tensor, p4: torch.Tensor, p5: torch.Tensor) -> torch.Tensor:
        """Sum of the projected P3-P5 features at stride 8 (before the mixing block)."""
        y = self.lateral[0](p3)
        for lateral, p in zip(self.lateral[1:], (p4, p5)):
            y = y + _resize(lateral(p), y.shape[2:])
        return y

    def decode(self, x: list[torch.Tensor]) -> torch.Tensor:
        """Logits at stride 4 from (P2, P3, P4, P5)."""
        p2, p3, p4, p5 = x
        y = self.fuse(self.fuse_levels(p3, p4, p5))
        return _resize(self.classifier(y), p2.shape[2:]) + self.detail(p2)

    def forward(self, x: list[torch.Tensor]):
        """Logits (with aux logits in training) from (P2, P3, P4, P5), or the export outputs while exporting."""
        logits = self.decode(x)
        if self.training:
            return logits, (self.aux(x[2]) if self.aux is not None else None)
        return self.export_outputs(logits) if self.exporting else logits

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
        return self.class_map_outputs(self.crop(upsample_logits(logits, scale_factor=self.out_stride)), mode)

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
