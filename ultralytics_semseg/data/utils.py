"""Mask reading, label mapping and image/mask pair verification for semseg datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

IGNORE = 255
MASK_SUFFIXES = (".png", ".tif", ".tiff", ".bmp")


def img2mask_paths(im_files: list[str], masks_dir: str = "masks") -> list[str]:
    """Mirror image paths into the masks folder: '.../images/train/a.jpg' -> '.../masks/train/a.png'.

    A mask with another lossless suffix (.tif, .bmp) is used when no .png exists.
    """
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}{masks_dir}{os.sep}"
    out = []
    for f in im_files:
        stem = sb.join(os.fspath(f).rsplit(sa, 1)).rsplit(".", 1)[0]
        out.append(next((stem + s for s in MASK_SUFFIXES if os.path.isfile(stem + s)), stem + ".png"))
    return out


def read_mask(path: str | Path) -> np.ndarray:
    """Read a single-channel class-id mask: 8-bit, 16-bit or palette PNG (palette indices are the ids).

    Raises:
        ValueError: For colour (RGB/RGBA) masks, which need a colour table, and unreadable files.
    """
    try:
        with Image.open(path) as im:
            if im.mode in {"RGB", "RGBA"}:
                raise ValueError(
                    f"mask is a {im.mode} colour image, expected single-channel class ids (8/16-bit or palette PNG)"
                )
            if im.mode == "1":
                return np.asarray(im, dtype=np.uint8)  # binary masks: 0/1 class ids
            return np.asarray(im)  # 'P' gives palette indices, 'L'/'I;16'/'I' give the stored ids
    except ValueError:
        raise
    except Exception as e:
        raise ValueError(f"unreadable mask ({type(e).__name__}: {e})") from e


def build_label_lut(nc: int, label_mapping: dict | None = None, ignore_label: int | None = IGNORE) -> np.ndarray:
    """Lookup table raw id -> train id over the 16-bit range; ids that are neither classes nor ignore map to -1.

    Args:
        nc (int): Number of classes; raw ids 0..nc-1 map to themselves unless `label_mapping` says otherwise.
        label_mapping (dict, optional): Raw id -> train id; a train id equal to `ignore_label` (or None) means ignore.
        ignore_label (int, optional): The train id that stands for ignore in `label_mapping`.

    Examples:
        >>> lut = build_label_lut(3, {7: 0, 8: 1, 0: 255})
        >>> lut[[7, 8, 0, 255, 9]].tolist()
        [0, 1, 255, 255, -1]
    """
    lut = np.full(1 << 16, -1, dtype=np.int32)
    lut[:nc] = np.arange(nc)
    lut[IGNORE] = IGNORE
    for raw, train in (label_mapping or {}).items():
        raw = int(raw)
        if not 0 <= raw < 1 << 16:
            continue  # e.g. Cityscapes' -1 'license plate' id never appears in 8/16-bit masks
        lut[raw] = IGNORE if train is None or train == ignore_label else int(train)
    return lut


def apply_lut(mask: np.ndarray, lut: np.ndarray, nc: int) -> np.ndarray:
    """Map raw ids to train ids; invalid ids become ignore. Returns uint8 for nc <= 255, else int32."""
    out = lut[mask]
    out[out < 0] = IGNORE
    return out.astype(np.uint8 if nc <= IGNORE else np.int32)


def verify_pair(args: tuple[str, str, np.ndarray, int]) -> tuple[dict | None, str]:
    """Check one image/mask pair; return (label dict, '') when usable, or (None, reason) naming the problem.

    The label dict holds the file paths, the image shape (h, w) and per-class pixel counts.
    """
    im_file, mask_file, lut, nc = args
    try:
        with Image.open(im_file) as im:
            im.verify()
            w, h = im.size
    except Exception as e:
        return None, f"{im_file}: image is corrupt or unreadable ({type(e).__name__}: {e})"
    if not os.path.isfile(mask_file):
        return None, f"{im_file}: mask not found at {mask_file}"
    try:
        raw = read_mask(mask_file)
    except ValueError as e:
        return None, f"{mask_file}: {e}"
    if raw.ndim != 2:
        return None, f"{mask_file}: mask has shape {raw.shape}, expected a single channel"
    if raw.shape != (h, w):
        return None, f"{mask_file}: mask size {raw.shape[1]}x{raw.shape[0]} differs from image size {w}x{h}"
    ids = np.unique(raw)
    bad = [int(i) for i in ids if not 0 <= i < lut.size or lut[int(i)] < 0]
    if bad:
        return None, (
            f"{mask_file}: class ids {bad[:10]} are not dataset classes 0..{nc - 1} nor 255 (ignore); "
            f"fix the mask or add them to 'label_mapping'"
        )
    mapped = lut[raw]
    counts = np.bincount(mapped[mapped != IGNORE].ravel(), minlength=nc)[:nc]
    return {"im_file": im_file, "mask_file": mask_file, "shape": (h, w), "counts": counts}, ""


def inverse_label_lut(nc: int, label_mapping: dict | None = None) -> np.ndarray:
    """Lookup table train id -> raw id (the first raw id mapped to it), identity where nothing maps.

    Used to write predictions in a dataset's raw ids, e.g. Cityscapes labelIds for its official evaluator.

    Examples:
        >>> inverse_label_lut(3, {7: 0, 8: 1, 0: 255, 9: 1}).tolist()[:3]
        [7, 8, 2]
    """
    inv = np.arange(256, dtype=np.uint8 if nc <= IGNORE else np.int32)
    done = set()
    for raw, train in (label_mapping or {}).items():
        if train is not None and 0 <= int(train) < nc and int(train) not in done and 0 <= int(raw) < 1 << 16:
            inv[int(train)] = int(raw)
            done.add(int(train))
    return inv
