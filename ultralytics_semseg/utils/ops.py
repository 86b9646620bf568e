"""Turn model outputs into class maps at the original image size."""

from __future__ import annotations

import cv2
import numpy as np
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

    Bilinear interpolation on logits (not on the argmax) keeps boundaries smooth at the original resolution. On the
    CPU both resizes run in OpenCV for up to `OPENCV_MAX_CHANNELS` classes (see `opencv_resizes`), elsewhere in
    PyTorch; the result is channels-last.
    """
    input_hw, ori_hw = tuple(input_hw), tuple(ori_hw)
    if opencv_resizes(logits) and logits.shape[1] <= OPENCV_MAX_CHANNELS:
        x = logits[0].detach().float().permute(1, 2, 0).contiguous().numpy()  # (h, w, C)
        x = _resize_to_original(x, input_hw, ori_hw, ratio_pad)
        return torch.from_numpy(x if x.ndim == 3 else x[..., None]).permute(2, 0, 1)[None]  # OpenCV drops C=1
    if logits.shape[2:] != input_hw:
        logits = upsample_logits(logits, size=input_hw)
    return scale_masks(logits.float(), ori_hw, ratio_pad=ratio_pad)


def to_original_classes(logits: torch.Tensor, input_hw: tuple[int, int], ori_hw: tuple[int, int], ratio_pad=None):
    """Class map (H, W) at `ori_hw` of one image's logits (1, C, h, w): `argmax_classes(to_original_logits(...))`.

    On the CPU (up to 256 classes) each class plane is resized by OpenCV and folded at once into a running maximum
    and its index (SIMD compare/max/and), so the C full-size planes never exist together: the predictor's
    postprocess takes 4.6-8.9 ms instead of 32-124 ms with PyTorch's resizes at imgsz 320-1024
    (`benchmarks/predict_speed.py`, docs/benchmarks.md). A strictly greater score replaces the index, so ties keep the
    first class, as `argmax` does.
    """
    input_hw, ori_hw = tuple(input_hw), tuple(ori_hw)
    nc = logits.shape[1]
    if not (opencv_resizes(logits) and 1 < nc <= 256):
        return argmax_classes(to_original_logits(logits, input_hw, ori_hw, ratio_pad))[0]
    planes = logits[0].detach().float().contiguous().numpy()
    best = _resize_to_original(planes[0], input_hw, ori_hw, ratio_pad)
    index = np.zeros(best.shape, np.uint8)
    for c in range(1, nc):
        score = _resize_to_original(planes[c], input_hw, ori_hw, ratio_pad)
        greater = cv2.compare(score, best, cv2.CMP_GT)  # 255 where class c beats every earlier class
        cv2.max(best, score, dst=best)
        cv2.max(index, cv2.bitwise_and(greater, c), dst=index)  # c exceeds every earlier index: max writes c there
    return torch.from_numpy(index)


OPENCV_MAX_CHANNELS = 128  # channels of one array that OpenCV's Python binding (5.x) resizes; more go plane by plane


def opencv_resizes(logits: torch.Tensor) -> bool:
    """Whether the resizes to the original size run in OpenCV: for CPU tensors (class limits: the two callers).

    OpenCV's bilinear resize samples like PyTorch's (`align_corners=False`, half-pixel centres, edges clamped); only
    float rounding differs, which moved the argmax at 41 of 80 million pixels, all near-ties, over real datasets
    (`benchmarks/postprocess_agreement.py`, raw output in benchmarks/results/postprocess_agreement/). On a GPU
    PyTorch stays.
    """
    return logits.device.type == "cpu"


def _resize_to_original(x: np.ndarray, input_hw: tuple[int, int], ori_hw: tuple[int, int], ratio_pad) -> np.ndarray:
    """(h, w[, C]) float32 scores -> bilinear to `input_hw`, letterbox padding cut, bilinear to `ori_hw` (OpenCV)."""
    if x.shape[:2] != input_hw:
        x = cv2.resize(x, input_hw[::-1], interpolation=cv2.INTER_LINEAR)
    if x.shape[:2] != ori_hw:
        top, left, bottom, right = content_box(input_hw, ori_hw, ratio_pad)
        x = cv2.resize(x[top:bottom, left:right], ori_hw[::-1], interpolation=cv2.INTER_LINEAR)
    return x


def content_box(input_hw: tuple[int, int], ori_hw: tuple[int, int], ratio_pad=None) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the image content in a letterboxed input: the crop of Ultralytics' `scale_masks`.

    Examples:
        >>> content_box((640, 640), (1080, 810), ((640 / 1080, 640 / 1080), (80.0, 0.0)))
        (0, 80, 640, 560)
    """
    (h1, w1), (h0, w0) = input_hw, ori_hw
    if ratio_pad is None:
        gain_h = gain_w = min(h1 / h0, w1 / w0)
        pad_w, pad_h = (w1 - max(round(w0 * gain_w), 1)) / 2, (h1 - max(round(h0 * gain_h), 1)) / 2
    else:
        (gain_h, gain_w), (pad_w, pad_h) = ratio_pad
    top, left = round(pad_h - 0.1), round(pad_w - 0.1)
    return top, left, top + max(round(h0 * gain_h), 1), left + max(round(w0 * gain_w), 1)


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
        if return_logits:
            out.append(to_original_logits(p[None], input_hw, ori, rp)[0])
        else:
            out.append(to_original_classes(p[None], input_hw, ori, rp))
    return out
