"""SemSegHead: a light dense decoder that fuses four pyramid levels and predicts at stride 4."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.nn.modules import Conv, DWConv

from ultralytics_semseg.nn.outputs import EXPORT_OUTPUTS, ExportOutputs
from ultralytics_semseg.utils.ops import class_map, upsample_logits  # noqa: F401  (their import path before 0.2)

__all__ = ("EXPORT_OUTPUTS", "SemSegAuxHead", "SemSegHead")


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


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


class SemSegHead(ExportOutputs, nn.Module):
    """Dense decoder: FPN-style fusion of P3-P5 classified at stride 8, plus detail logits from P2 at stride 4.

    P3, P4 and P5 are projected to `c` channels, upsampled to stride 8 and summed (context from P5, semantics from
    P4/P3), mixed by a depthwise-separable 3x3 block and classified. These context logits are upsampled to stride 4 and
    a light branch on P2 (1x1 projection, depthwise 3x3, 1x1 classifier) adds its detail logits, so that thin
    structures (poles, signs) keep their edges (the skip of FCN-8s, at stride 4). The decoder's only work at stride
    4 is that narrow branch and an `nc`-channel upsampling, because concatenating `c`-channel features there instead
    was slower for no accuracy gain beyond the seed spread (figures and their raw outputs: docs/benchmarks.md, "Where
    the milliseconds go"). The stride-4 layers use ReLU, which runtimes fuse into the convolution (SiLU would be a
    separate pass).

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

    out_stride = 4

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
