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

from ultralytics_semseg.constants import IGNORE, PAD_VALUE, STRIDE


def letterbox(
    img: np.ndarray,
    new_shape: tuple[int, int] | int,
    stride: int = STRIDE,
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
        ((128, 256, 3), ((1.28, 1.28), (0, 0)))
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

    Padding is grey 114 in the image and 255 (ignore) in the mask, at a random side. With `cat_max_ratio` < 1 the
    crop position is redrawn (up to 10 times, as in mmsegmentation's `RandomCrop`) while a single class covers
    `cat_max_ratio` or more of the crop's non-ignore pixels, or the crop holds fewer than two classes.

    Args:
        crop_shape (tuple[int, int]): Output (h, w).
        ratio_range (tuple[float, float]): Resize ratios relative to the input image.
        cat_max_ratio (float, optional): Cap on the share of one class per crop; None or >= 1 disables it.

    Examples:
        >>> t = RandomResizeCrop((32, 64), (0.5, 2.0), cat_max_ratio=0.75)
        >>> out = t({"img": np.zeros((40, 80, 3), np.uint8), "semseg_mask": np.zeros((40, 80), np.uint8)})
        >>> out["img"].shape, out["semseg_mask"].shape
        ((32, 64, 3), (32, 64))
    """

    def __init__(
        self, crop_shape: tuple[int, int], ratio_range: tuple[float, float] = (0.5, 1.5), cat_max_ratio: float = None
    ):
        """Set the crop size, the resize range and the class-share cap (see the class docstring)."""
        self.crop_shape = crop_shape
        self.ratio_range = ratio_range
        self.cat_max_ratio = float(cat_max_ratio) if cat_max_ratio else 1.0
        if self.cat_max_ratio <= 0:
            raise ValueError(f"cat_max_ratio={cat_max_ratio} must be in (0, 1], or None to disable")

    def __call__(self, labels: dict) -> dict:
        """Resize and crop `labels['img']` and `labels['semseg_mask']` alike; return the updated dict."""
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
        y0, x0 = self._crop_origin(mask)
        labels["img"] = np.ascontiguousarray(img[y0 : y0 + ch, x0 : x0 + cw])
        labels["semseg_mask"] = np.ascontiguousarray(mask[y0 : y0 + ch, x0 : x0 + cw])
        return labels

    def _crop_origin(self, mask: np.ndarray) -> tuple[int, int]:
        """Top-left corner of the crop; redrawn while one class dominates it (`cat_max_ratio`)."""
        ch, cw = self.crop_shape
        for _ in range(10 if self.cat_max_ratio < 1 else 1):
            y0, x0 = random.randint(0, mask.shape[0] - ch), random.randint(0, mask.shape[1] - cw)
            if self.cat_max_ratio >= 1:
                break
            counts = np.bincount(mask[y0 : y0 + ch, x0 : x0 + cw].ravel(), minlength=IGNORE + 1)[:IGNORE]
            counts = counts[counts > 0]
            if len(counts) > 1 and counts.max() / counts.sum() < self.cat_max_ratio:
                break
        return y0, x0


class SemSegMosaic:
    """2x2 mosaic of the sample and three random others, on a canvas twice the size of the largest tile.

    The four images meet at a random centre in the middle half of the canvas; what they leave uncovered is grey 114
    in the image and 255 (ignore) in the mask. The following `RandomResizeCrop` then crops anywhere in the canvas.
    Off by default for semseg (`mosaic=0.0`): it stitches unrelated scenes.

    Args:
        dataset: A dataset with `load_train_pair(i) -> (image, class map)` and `len()`.
        p (float): Probability of building a mosaic for a sample.
    """

    def __init__(self, dataset, p: float = 0.0):
        """Keep the dataset that provides the three extra tiles, and the mosaic probability."""
        self.dataset = dataset
        self.p = p

    def __call__(self, labels: dict) -> dict:
        """With probability `p`, replace image and mask by a mosaic of them and three random samples."""
        if not self.p or random.random() >= self.p:
            return labels
        tiles = [(labels["img"], labels["semseg_mask"])]
        tiles += [self.dataset.load_train_pair(random.randrange(len(self.dataset))) for _ in range(3)]
        labels["img"], labels["semseg_mask"] = mosaic4(tiles)
        return labels


def mosaic4(tiles: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Place four (image, mask) tiles top-left, top-right, bottom-left, bottom-right of a random centre.

    Examples:
        >>> t = (np.ones((4, 6, 3), np.uint8), np.ones((4, 6), np.uint8))
        >>> img, mask = mosaic4([t] * 4)
        >>> img.shape, mask.shape  # twice the tile size; 114 / 255 where the tiles leave gaps
        ((8, 12, 3), (8, 12))
    """
    h = max(t[0].shape[0] for t in tiles)
    w = max(t[0].shape[1] for t in tiles)
    c = tiles[0][0].shape[2]
    img = np.full((2 * h, 2 * w, c), PAD_VALUE, np.uint8)
    mask = np.full((2 * h, 2 * w), IGNORE, tiles[0][1].dtype)
    yc, xc = round(random.uniform(0.5 * h, 1.5 * h)), round(random.uniform(0.5 * w, 1.5 * w))
    for k, (ti, tm) in enumerate(tiles):
        th, tw = ti.shape[:2]
        y1 = yc - th if k < 2 else yc  # tiles 0, 1 end at the centre row, 2, 3 start there
        x1 = xc - tw if k % 2 == 0 else xc
        cy0, cx0, cy1, cx1 = max(y1, 0), max(x1, 0), min(y1 + th, 2 * h), min(x1 + tw, 2 * w)
        img[cy0:cy1, cx0:cx1] = ti.reshape(th, tw, -1)[cy0 - y1 : cy1 - y1, cx0 - x1 : cx1 - x1]
        mask[cy0:cy1, cx0:cx1] = tm[cy0 - y1 : cy1 - y1, cx0 - x1 : cx1 - x1]
    return img, mask


class RandomContrast:
    """Photometric contrast jitter around the image mean (the part of mmseg's PhotoMetricDistortion HSV lacks).

    With probability `p` the contrast is scaled by a factor drawn from [1 - contrast, 1 + contrast]; the mask is
    untouched. `contrast=0` disables it (the default; `contrast=0.5` matches mmsegmentation's range).

    Examples:
        >>> out = RandomContrast(0.5, p=1.0)({"img": np.array([[[0, 100, 200]]], np.uint8)})
        >>> out["img"].shape
        (1, 1, 3)
    """

    def __init__(self, contrast: float = 0.0, p: float = 0.5):
        """Set the contrast range (0 = off) and the probability of applying it."""
        self.contrast = float(contrast)
        self.p = p

    def __call__(self, labels: dict) -> dict:
        """Scale the image contrast around its mean by a random factor (with probability `p`); the mask is unchanged."""
        if self.contrast <= 0 or random.random() >= self.p:
            return labels
        img = labels["img"]
        alpha = random.uniform(max(1 - self.contrast, 0.0), 1 + self.contrast)
        mean = float(img.mean())
        lut = np.clip((np.arange(256, dtype=np.float32) - mean) * alpha + mean, 0, 255).astype(np.uint8)
        out = cv2.LUT(img, lut)
        labels["img"] = out[..., None] if out.ndim == 2 and img.ndim == 3 else out
        return labels


class RandomHorizontalFlip:
    """Flip image and mask left-right with probability `p`."""

    def __init__(self, p: float = 0.5):
        """Set the flip probability."""
        self.p = p

    def __call__(self, labels: dict) -> dict:
        """Flip image and mask left-right with probability `p`."""
        if self.p and random.random() < self.p:
            img = labels["img"]
            labels["img"] = cv2.flip(img, 1).reshape(img.shape)  # cv2.flip drops a trailing channel axis of 1
            labels["semseg_mask"] = cv2.flip(labels["semseg_mask"], 1)
        return labels


class LetterBoxVal:
    """Letterbox image and mask like `predict` does; keep the original mask as 'ori_mask' for true-resolution metrics.

    The letterboxed mask only serves the validation loss.
    """

    def __init__(self, imgsz: int, stride: int = STRIDE):
        """Set the letterbox size (used when a sample has no rectangular batch shape) and the stride."""
        self.imgsz = imgsz
        self.stride = stride

    def __call__(self, labels: dict) -> dict:
        """Letterbox image and mask to the batch shape (or `imgsz`), keeping the original mask as 'ori_mask'."""
        shape = labels.pop("rect_shape", None)
        new_shape = tuple(int(x) for x in shape) if shape is not None else self.imgsz
        labels["img"], labels["ratio_pad"] = letterbox(labels["img"], new_shape, self.stride)
        labels["ori_mask"] = torch.from_numpy(labels["semseg_mask"])
        labels["semseg_mask"] = letterbox(labels["semseg_mask"], new_shape, self.stride, mask=True)[0]
        return labels


class SemSegFormat:
    """HWC BGR uint8 image -> CHW RGB uint8 tensor; mask -> integer tensor."""

    def __call__(self, labels: dict) -> dict:
        """Convert the image to a CHW RGB tensor and the mask to a tensor."""
        img = labels["img"]
        img = img[..., ::-1] if img.shape[2] == 3 else img
        labels["img"] = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        labels["semseg_mask"] = torch.from_numpy(np.ascontiguousarray(labels["semseg_mask"]))
        return labels


def train_crop_shape(shapes: np.ndarray, imgsz: int, stride: int = STRIDE) -> tuple[int, int]:
    """Training crop (h, w): long side `imgsz`, aspect of the dataset's median image, rounded up to `stride`.

    Same-aspect datasets such as Cityscapes (1:2) thus train on crops of that aspect (e.g. 512x1024 at imgsz=1024)
    instead of square crops that would be half padding.
    """
    ar = float(np.median(shapes[:, 0] / shapes[:, 1])) if len(shapes) else 1.0  # h / w
    h, w = (imgsz, imgsz / ar) if ar > 1 else (imgsz * ar, imgsz)
    return tuple(int(math.ceil(x / stride) * stride) for x in (h, w))
