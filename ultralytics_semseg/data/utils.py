"""Mask reading and label mapping for semseg datasets (per-format decoding and verification: `formats.py`)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ultralytics_semseg.constants import IGNORE

MASK_SUFFIXES = (".png", ".tif", ".tiff", ".bmp")
# leading bytes of the image formats OpenCV and Pillow decode, to tell a damaged image from a file that is none at all
IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG": "PNG",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"GIF8": "GIF",
    b"RIFF": "WebP",
    b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
}


IMAGES_DIR = f"{os.sep}images{os.sep}"  # the folder that image paths are mirrored from


def mirror_path(path: str | Path, folder: str) -> str:
    """The path with its last `images` folder replaced by `folder` ('.../images/train' -> '.../masks/train').

    A path without an `images` folder comes back unchanged. The one rule for every label file, label folder and
    cache that sits beside the images.

    Examples:
        >>> mirror_path("/d/images/train/a.jpg", "masks") == os.path.join(os.sep, "d", "masks", "train", "a.jpg")
        True
    """
    return f"{os.sep}{folder}{os.sep}".join(os.fspath(path).rsplit(IMAGES_DIR, 1))


def img2mask_paths(im_files: list[str], masks_dir: str = "masks") -> list[str]:
    """Mirror image paths into the masks folder: '.../images/train/a.jpg' -> '.../masks/train/a.png'.

    A mask with another lossless suffix (.tif, .bmp) is used when no .png exists.
    """
    out = []
    for f in im_files:
        stem = mirror_path(f, masks_dir).rsplit(".", 1)[0]
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
                    f"mask is a {im.mode} colour image, expected single-channel class ids (8/16-bit or palette PNG); "
                    "for colour masks add a 'colors:' table (class: [r, g, b]) to the dataset YAML"
                )
            if im.mode == "1":
                return np.asarray(im, dtype=np.uint8)  # binary masks: 0/1 class ids
            if im.mode in {"L", "I;16"} and im.format == "PNG":  # OpenCV decodes these PNGs faster, same values
                mask = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
                if mask is not None and mask.ndim == 2:
                    return mask
            return np.asarray(im)  # 'P' gives palette indices, 'L'/'I;16'/'I' give the stored ids
    except ValueError:
        raise
    except Exception as e:
        raise ValueError(f"unreadable mask ({type(e).__name__}: {e})") from e


def image_format(path: str | Path) -> str | None:
    """The image format named by a file's leading bytes ('JPEG', 'PNG', ...), or None when they name no image format.

    Examples:
        >>> image_format("bus.jpg")  # doctest: +SKIP
        'JPEG'
    """
    with open(path, "rb") as f:
        head = f.read(16)
    if head[4:12] in {b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"}:
        return "HEIF/AVIF"
    return next((fmt for sig, fmt in IMAGE_SIGNATURES.items() if head.startswith(sig)), None)


class TruncatedImageError(ValueError):
    """An image whose file ends before its image data does (an interrupted copy or download).

    Decoders often return such an image without an error, its missing part grey or black (libjpeg only warns
    'Premature end of JPEG file'), so `decoded_image_size` looks at the file's structure as well as decoding it.
    """


def _jpeg_truncation(data: bytes) -> str | None:
    """Why a JPEG's bytes end early, or None: its segments are walked to the first scan, which an EOI must follow.

    Entropy-coded data never holds the bytes FF D9 (an FF in it is followed by 00 or a restart marker), so an EOI after
    the first SOS is the image's end; data appended after it (e.g. the video of a motion photo) is allowed.
    """
    i, n = 2, len(data)
    while True:
        if i >= n:
            return f"the file ends inside its header, at byte {n}"
        if data[i] != 0xFF:
            return None  # not a marker where one belongs: corrupt rather than cut, left to the decoder
        while i < n and data[i] == 0xFF:  # a marker, after any fill bytes
            i += 1
        if i + 3 > n:
            return f"the file ends inside its header, at byte {n}"
        marker = data[i]
        if marker == 0xDA:  # SOS: scan data follows
            break
        if marker == 0xD9:
            return "the end-of-image marker comes before any image data"
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 1
            continue
        i += 1 + int.from_bytes(data[i + 1 : i + 3], "big")
    if data.find(b"\xff\xd9", i) < 0:
        return (
            f"the file ends inside its image data, at byte {n}, without the end-of-image marker (FF D9); "
            "the missing part would decode as grey"
        )
    return None


def _png_truncation(data: bytes) -> str | None:
    """Why a PNG's bytes end early, or None: its chunks are walked to IEND."""
    i, n, idat = 8, len(data), False
    while i + 8 <= n:
        length, kind = int.from_bytes(data[i : i + 4], "big"), data[i + 4 : i + 8]
        end = i + 12 + length
        if end > n:
            where = "image data (IDAT)" if kind == b"IDAT" else f"chunk {kind.decode('latin-1')!r}"
            return f"the file ends inside its {where}, at byte {n} of {end} or more"
        if kind == b"IEND":
            return None
        idat |= kind == b"IDAT"
        i = end
    return f"the file ends at byte {n} {'after' if idat else 'before'} its image data, without the IEND chunk"


def _tiff_truncation(data: bytes) -> str | None:
    """Why a TIFF's bytes end early, or None: its first directory and that image's strips or tiles must be in the file.

    Parsed here rather than by Pillow, whose failure to open a file makes Ultralytics try to install a HEIF plug-in.
    """
    n, order = len(data), "little" if data[:2] == b"II" else "big"

    def num(i: int, k: int) -> int:
        return int.from_bytes(data[i : i + k], order)

    ifd = num(4, 4)
    if n < 8 or ifd + 2 > n or ifd + 2 + 12 * num(ifd, 2) > n:
        return f"the file ends at byte {n}, before the end of its image directory (at byte {ifd})"
    tags = {}
    for e in range(ifd + 2, ifd + 2 + 12 * num(ifd, 2), 12):
        tag, kind, count = num(e, 2), num(e + 2, 2), num(e + 4, 4)
        if tag in {273, 279, 324, 325} and kind in {3, 4}:  # strip/tile offsets and byte counts, SHORT or LONG
            k = 2 if kind == 3 else 4
            at = e + 8 if count * k <= 4 else num(e + 8, 4)
            if at + count * k > n:
                return f"the file ends at byte {n}, inside the table of its image data (at byte {at})"
            tags[tag] = [num(at + j * k, k) for j in range(count)]
    offsets, counts = tags.get(273) or tags.get(324) or [], tags.get(279) or tags.get(325) or []
    end = max((o + c for o, c in zip(offsets, counts)), default=0)
    return f"the file ends at byte {n} but its image data runs to byte {end}" if end > n else None


def _riff_or_bmp_truncation(data: bytes, fmt: str, size: int) -> str | None:
    """Why a BMP or WebP ends early, or None: both state their file size in the header."""
    if len(data) < 8:
        return f"the file ends inside its header, at byte {size}"
    declared = int.from_bytes(data[2:6], "little") if fmt == "BMP" else int.from_bytes(data[4:8], "little") + 8
    return f"the file ends at byte {size} but its header says {declared} bytes" if size < declared else None


def image_truncation(path: str | Path, fmt: str | None = None) -> str | None:
    """Why an image file ends before its image data does, or None when it is complete (or its format unchecked).

    JPEG (no end-of-image marker after the first scan), PNG (no IEND chunk, e.g. an IDAT cut off), TIFF (strips or
    tiles beyond the end of the file), BMP and WebP (shorter than their header says) are checked; reads only.

    Examples:
        >>> image_truncation("bus.jpg")  # doctest: +SKIP
        >>> image_truncation("half_of_bus.jpg")  # doctest: +SKIP
        'the file ends inside its image data, at byte 68340, without the end-of-image marker (FF D9); ...'
    """
    fmt = fmt or image_format(path)
    if fmt not in {"JPEG", "PNG", "TIFF", "BMP", "WebP"}:
        return None
    with open(path, "rb") as f:
        data = f.read()
    if fmt == "JPEG":
        return _jpeg_truncation(data)
    if fmt == "PNG":
        return _png_truncation(data)
    if fmt == "TIFF":
        return _tiff_truncation(data)
    return _riff_or_bmp_truncation(data, fmt, len(data))


def decoded_image_size(
    path: str | Path, flags: int = cv2.IMREAD_COLOR, keep_truncated: bool = False
) -> tuple[int, int]:
    """Decode an image fully with the reader training uses and return its (h, w); never writes to the file.

    A header check (such as PIL's `verify()`) passes a JPEG cut in half by an interrupted copy, and a decoder often
    returns it with a grey lower half, so the file's structure is checked too (`image_truncation`); with
    `keep_truncated` that check is skipped and an image that still decodes is accepted.

    Raises:
        TruncatedImageError: Starting with the file name and 'truncated <format> image', for a file that ends before
            its image data does (`image_truncation`), whether or not a decoder would return an image.
        ValueError: Starting with the file name: 'truncated/corrupt' for a file in an image format whose data cannot
            be decoded, 'not a readable image' for an empty file or one that is in no image format.

    Examples:
        >>> decoded_image_size("images/train/a.jpg")  # doctest: +SKIP
        (1024, 2048)
    """
    from ultralytics.utils import imread

    try:
        size = os.path.getsize(path)
        fmt = image_format(path) if size else None
    except OSError as e:
        raise ValueError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None
    if not size:
        raise ValueError(f"{path}: not a readable image: the file is empty (0 bytes)")
    cut = image_truncation(path, fmt) if fmt and not keep_truncated else None
    if cut:
        raise TruncatedImageError(
            f"{path}: truncated {fmt} image: {cut} (e.g. an interrupted copy); copy the file again or remove it"
        )
    im = imread(path, flags)
    if im is None:
        if fmt is None:
            raise ValueError(
                f"{path}: not a readable image: its {size} bytes are in no image format OpenCV or Pillow decodes"
            )
        raise ValueError(
            f"{path}: truncated/corrupt {fmt} image: the header is valid but the image data cannot be decoded "
            f"(e.g. an interrupted copy); copy the file again or remove it"
        )
    return im.shape[:2]


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
        lut[raw] = IGNORE if is_ignore_value(train, ignore_label) else int(train)
    return lut


def is_ignore_value(train_id: int | str | None, ignore_label: int | None = IGNORE) -> bool:
    """True for the `label_mapping` values that mean ignore: null, `ignore_label`, 255, 'ignore' or 'ignore_label'.

    The strings keep Ultralytics' own dataset YAMLs (which write `0: ignore_label`) usable unchanged.

    Examples:
        >>> [is_ignore_value(v) for v in (None, 255, "ignore_label", 3)]
        [True, True, True, False]
    """
    return train_id is None or train_id in {ignore_label, IGNORE, "ignore", "ignore_label"}


def apply_lut(mask: np.ndarray, lut: np.ndarray, nc: int) -> np.ndarray:
    """Map raw ids to train ids; invalid ids become ignore. Returns uint8 for nc <= 255, else int32.

    Examples:
        >>> apply_lut(np.array([[7, 3, 255]], np.uint8), build_label_lut(2, {7: 0}), 2).tolist()
        [[0, 255, 255]]
    """
    if mask.dtype == np.uint8 and nc <= IGNORE:  # 8-bit masks: cv2.LUT on a 256-entry table beats indexing
        table = lut[:256].copy()
        table[table < 0] = IGNORE
        return cv2.LUT(mask, table.astype(np.uint8))
    out = lut[mask]
    out[out < 0] = IGNORE
    return out.astype(np.uint8 if nc <= IGNORE else np.int32)


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
        if not isinstance(train, int) or isinstance(train, bool):
            continue  # null / 'ignore_label': nothing to invert
        if 0 <= train < nc and train not in done and 0 <= int(raw) < 1 << 16:
            inv[int(train)] = int(raw)
            done.add(int(train))
    return inv
