"""Geometry and format transforms that keep the image and its class mask aligned.

Every transform takes and returns the label dict used by `SemSegDataset`: 'img' (HWC BGR uint8) and, in training,
'semseg_mask' (HW class ids). Pixels created by padding are 114 grey in the image and 255 (ignore) in the mask.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
import torch

from ultralytics_semseg.data.utils import IGNORE

PAD_VALUE = 114


def letterbox(
    img: np.ndarray,
    new_shape: tuple[int, int] | int,
    stride: int = 32,
    auto: bool = False,
    scaleup: bool = True,
    mask: bool = False,
) -> tuple[np.ndarray, tuple[tuple[float, float], tuple[float, float]]]:
    """Resize with unchanged aspect ratio and pad to `new_shape`, centring the content.

    The single letterbox of the task: validation, prediction and export pre-processing all call it, so a given image
    gets the same input tensor everywhere. It mirrors Ultralytics' `LetterBox(center=True)` arithmetic.

    Args:
        img (np.ndarray): HWC image.
        new_shape (tuple[int, int] | int): Target (h, w), or one int for a square.
        stride (int): With `auto`, pad only up to the next multiple of `stride`.
        auto (bool): Minimal padding (rectangular inference).
        scaleup (bool): Allow enlarging small images.
        mask (bool): `img` is a class map: nearest resizing and 255 (ignore) padding.

    Returns:
        (np.ndarray): The letterboxed image.
        (tuple): `ratio_pad` = ((gain_h, gain_w), (pad_w, pad_h)), the gains and the left/top padding, as
            `ultralytics.utils.ops.scale_masks` expects.

    Examples:
        >>> im, ratio_pad = letterbox(np.zeros((100, 200, 3), np.uint8), 256, auto=True)
        >>> im.shape, ratio_pad
        ((128, 256, 3), ((1.28, 1.28), (0.0, 0.0)))
    """
    h, w = img.shape[:2]
    nh, nw = (new_shape, new_shape) if isinstance(new_shape, int) else new_shape
    r = min(nh / h, nw / w)
    if not scaleup:
        r = min(r, 1.0)
    uw, uh = round(w * r), round(h * r)
    dw, dh = nw - uw, nh - uh
    if auto:
        dw, dh = dw % stride, dh % stride
    dw, dh = dw / 2, dh / 2
    if (w, h) != (uw, uh):
        img = cv2.resize(img, (uw, uh), interpolation=cv2.INTER_NEAREST if mask else cv2.INTER_LINEAR)
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    if top or bottom or left or right:
        value = (IGNORE if mask else PAD_VALUE,) * (img.shape[2] if img.ndim == 3 else 1)
        img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=value)
    return img, ((uh / h, uw / w), (left, top))


class RandomResizeCrop:
    """Random aspect-preserving resize over a ratio range, then a random crop anywhere (padded where too small).

    Args:
        crop_shape (tuple[int, int]): Output (h, w).
        ratio_range (tuple[float, float]): Resize ratios relative to the input image.
    """

    def __init__(self, crop_shape: tuple[int, int], ratio_range: tuple[float, float] = (0.5, 1.5)):
        self.crop_shape = crop_shape
        self.ratio_range = ratio_range

    def __call__(self, labels: dict) -> dict:
        img, mask = labels["img"], labels["semseg_mask"]
        r = random.uniform(*self.ratio_range)
        h, w = img.shape[:2]
        size = (max(1, round(w * r)), max(1, round(h * r)))
        img = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        if img.ndim == 2:
            img = img[..., None]
        ch, cw = self.crop_shape
        ph, pw = max(ch - img.shape[0], 0), max(cw - img.shape[1], 0)
        if ph or pw:  # pad at a random side so that content is not always top-left
            top, left = random.randint(0, ph), random.randint(0, pw)
            border = (top, ph - top, left, pw - left)
            img = cv2.copyMakeBorder(img, *border, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * img.shape[2])
            mask = cv2.copyMakeBorder(mask, *border, cv2.BORDER_CONSTANT, value=IGNORE)
            if img.ndim == 2:
                img = img[..., None]
        y0 = random.randint(0, img.shape[0] - ch)
        x0 = random.randint(0, img.shape[1] - cw)
        labels["img"] = np.ascontiguousarray(img[y0 : y0 + ch, x0 : x0 + cw])
        labels["semseg_mask"] = np.ascontiguousarray(mask[y0 : y0 + ch, x0 : x0 + cw])
        return labels


class RandomHorizontalFlip:
    """Flip image and mask left-right with probability `p`."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, labels: dict) -> dict:
        if self.p and random.random() < self.p:
            labels["img"] = np.ascontiguousarray(labels["img"][:, ::-1])
            labels["semseg_mask"] = np.ascontiguousarray(labels["semseg_mask"][:, ::-1])
        return labels


class LetterBoxVal:
    """Letterbox image and mask like `predict` does; keep the original mask as 'ori_mask' for true-resolution metrics.

    The letterboxed mask only serves the validation loss.
    """

    def __init__(self, imgsz: int, stride: int = 32):
        self.imgsz = imgsz
        self.stride = stride

    def __call__(self, labels: dict) -> dict:
        shape = labels.pop("rect_shape", None)
        new_shape = tuple(int(x) for x in shape) if shape is not None else self.imgsz
        labels["img"], labels["ratio_pad"] = letterbox(labels["img"], new_shape, self.stride)
        labels["ori_mask"] = torch.from_numpy(labels["semseg_mask"])
        labels["semseg_mask"] = letterbox(labels["semseg_mask"], new_shape, self.stride, mask=True)[0]
        return labels


class SemSegFormat:
    """HWC BGR uint8 image -> CHW RGB uint8 tensor; mask -> integer tensor."""

    def __call__(self, labels: dict) -> dict:
        img = labels["img"]
        img = img[..., ::-1] if img.shape[2] == 3 else img
        labels["img"] = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        labels["semseg_mask"] = torch.from_numpy(np.ascontiguousarray(labels["semseg_mask"]))
        return labels


def train_crop_shape(shapes: np.ndarray, imgsz: int, stride: int = 32) -> tuple[int, int]:
    """Training crop (h, w): long side `imgsz`, aspect of the dataset's median image, rounded up to `stride`.

    Same-aspect datasets such as Cityscapes (1:2) thus train on crops of that aspect (e.g. 512x1024 at imgsz=1024)
    instead of square crops that would be half padding.
    """
    ar = float(np.median(shapes[:, 0] / shapes[:, 1])) if len(shapes) else 1.0  # h / w
    h, w = (imgsz, imgsz / ar) if ar > 1 else (imgsz * ar, imgsz)
    return tuple(int(math.ceil(x / stride) * stride) for x in (h, w))
