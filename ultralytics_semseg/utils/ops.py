"""Turn model outputs into class maps at the original image size."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from ultralytics.utils.ops import scale_masks


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


def to_original_logits(logits: torch.Tensor, input_hw: tuple[int, int], ori_hw: tuple[int, int], ratio_pad=None):
    """Upsample one image's logits (1, C, h, w) to the letterboxed input, remove the padding, resize to `ori_hw`.

    Bilinear interpolation on logits (not on the argmax) keeps boundaries smooth at the original resolution.
    """
    if logits.shape[2:] != tuple(input_hw):
        logits = upsample_logits(logits, size=tuple(input_hw))
    return scale_masks(logits.float(), tuple(ori_hw), ratio_pad=ratio_pad)


def argmax_classes(logits: torch.Tensor) -> torch.Tensor:
    """Class map (B, H, W) of (B, C, H, W) logits: `class_map`'s result, the first maximum's index.

    `max(1).indices` instead of `argmax(1)`: the same indices (both return the first maximum), but the logits that
    `to_original_logits` returns are channels-last, and on the CPU `max` reduces those contiguous per-pixel class
    scores about 9x faster than `argmax` (bus.jpg at imgsz 640, 14 classes: 10 instead of 95 ms; docs/benchmarks.md).
    """
    if logits.shape[1] == 0:
        return class_map(logits)
    return logits.max(1).indices.to(torch.uint8 if logits.shape[1] <= 256 else torch.int32)


def to_original_classmap(classmap: torch.Tensor, ori_hw: tuple[int, int], ratio_pad=None) -> torch.Tensor:
    """Remove the padding from an exported model's (H, W) class map and resize it to `ori_hw` (nearest)."""
    x = scale_masks(classmap[None, None].float(), tuple(ori_hw), ratio_pad=ratio_pad, mode="nearest")
    return x[0, 0].to(classmap.dtype)


def postprocess(preds, input_hw, ori_shapes, ratio_pads=None, return_logits: bool = False) -> list[torch.Tensor]:
    """Class map per image at its original size, from logits (B, C, h, w) or exported class maps (B, H, W).

    Returns uint8 maps for up to 256 classes, else int32.
    """
    preds = preds[0] if isinstance(preds, (list, tuple)) else preds
    ratio_pads = ratio_pads or [None] * len(ori_shapes)
    out = []
    for i, (ori, rp) in enumerate(zip(ori_shapes, ratio_pads)):
        p = preds[i]
        if p.ndim == 2:  # class map from an exported graph
            out.append(to_original_classmap(p, ori, rp))
            continue
        logits = to_original_logits(p[None], input_hw, ori, rp)
        out.append(logits[0] if return_logits else argmax_classes(logits)[0])
    return out
