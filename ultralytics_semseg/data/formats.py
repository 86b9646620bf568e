"""Label formats of semseg datasets: how each sample's class map is found, verified and decoded.

Three formats, chosen per dataset YAML by `resolve_label_format` (key `label_format`, a `colors:` table, or the label
folder found beside the images). Each format class owns the folder it reads, the checks of its YAML keys and their
completion (`validate_keys`, `complete_keys`, which `data.build.settle_semseg_keys` calls):

- `masks`: single-channel class-id PNGs at `<masks_dir>/<split>/x.png` (8/16-bit or palette), through `label_mapping`.
- `colors`: RGB colour masks at the same place, decoded with the YAML's `colors:` table (class -> RGB). A colour that is
  not in the table becomes 255 (ignore), and is counted and reported once per dataset, never mapped to a class.
- `polygons`: YOLO polygon `.txt` labels at `labels/<split>/x.txt`, rasterised on the fly. Pixels that no polygon
  covers get the `background` class (or 255 with `background: ignore`); where polygons overlap, the smaller one wins.

Every decoded class map is an (H, W) uint8 array of train ids, 255 = ignore.
"""

from __future__ import annotations

import contextlib
import os
from multiprocessing.pool import ThreadPool
from typing import Any

import cv2
import numpy as np
from PIL import Image
from ultralytics.data.utils import img2label_paths
from ultralytics.utils import NUM_THREADS, TQDM

from ultralytics_semseg.constants import IGNORE
from ultralytics_semseg.data.utils import (
    IMAGES_DIR,
    TruncatedImageError,
    apply_lut,
    build_label_lut,
    decoded_image_size,
    image_truncation,
    img2mask_paths,
    mirror_path,
    read_mask,
)

IGNORE_WORDS = {"ignore", "ignore_label"}
Polygon = tuple[int, np.ndarray]  # (train id, (N, 2) float32 normalised x y)


class LabelFormat:
    """Single-channel class-id masks (the default format) and the interface of the other formats.

    Args:
        data (dict): Dataset dict from `check_semseg_dataset` (names, label_mapping, masks_dir, ...).

    Examples:
        >>> fmt = LabelFormat({"names": {0: "road", 1: "car"}, "label_mapping": {7: 0, 26: 1, 0: 255}})
        >>> fmt.label_files(["/d/images/train/a.jpg"])
        ['/d/masks/train/a.png']
    """

    name = "masks"

    @staticmethod
    def folder(d: dict[str, Any]) -> str:
        """The folder, mirrored from `images/`, that holds this format's label files (detection looks for it)."""
        return d.get("masks_dir") or "masks"

    @classmethod
    def validate_keys(cls, d: dict[str, Any], name: str) -> int:
        """Raise for mistakes in this format's dataset YAML keys, changing nothing; return the classes it will add.

        Raises:
            ValueError: With the YAML path `name` and the offending key.
        """
        return 0

    @classmethod
    def complete_keys(cls, d: dict[str, Any], name: str) -> None:
        """Settle this format's keys in the dataset dict (after `validate_keys` accepted them)."""

    def __init__(self, data: dict[str, Any]):
        """Read the class names, the raw-to-train-id table and the mask folder from the dataset dict."""
        self.nc = len(data["names"])
        self.names = data["names"]
        self.mapping = {int(k): v for k, v in (data.get("label_mapping") or {}).items()}
        self.lut = build_label_lut(self.nc, self.mapping, data.get("ignore_label", IGNORE))
        self.masks_dir = data.get("masks_dir") or "masks"
        self.keep_truncated = data.get("truncated") == "keep"  # dataset YAML 'truncated: keep'; default 'skip'

    def label_files(self, im_files: list[str]) -> list[str]:
        """Label file of each image: its mask mirrored into `masks_dir`."""
        return img2mask_paths(im_files, self.masks_dir)

    def cache_key(self) -> str:
        """Everything besides the files that changes the verification result."""
        return f"{self.name}|{self.nc}|{sorted(self.mapping.items(), key=str)}|keep_truncated={self.keep_truncated}"

    def verify(self, im_file: str, label_file: str, shape: tuple[int, int]) -> dict[str, Any]:
        """Check one label against its image of `shape` (h, w); return extra label info with per-class pixel counts.

        Raises:
            ValueError: With a message that starts with the offending file and names the problem.
        """
        if not os.path.isfile(label_file):
            raise ValueError(f"{im_file}: mask not found at {label_file}")
        cut = image_truncation(label_file)
        if cut:  # Pillow decodes a PNG without its last chunks, and would hand over a mask that lacks its last rows
            raise ValueError(f"{label_file}: truncated mask: {cut}; copy the file again or remove the pair")
        try:
            mask, info = self.decode(label_file, check=True)
        except ValueError as e:
            raise ValueError(f"{label_file}: {e}") from None
        if mask.shape != shape:
            raise ValueError(
                f"{label_file}: mask size {mask.shape[1]}x{mask.shape[0]} differs from image size {shape[1]}x{shape[0]}"
            )
        return {"counts": class_counts(mask, self.nc), **info}

    def decode(self, path: str, check: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
        """Read a mask file into train ids; with `check`, ids that are neither classes nor 255 raise ValueError."""
        raw = read_mask(path)
        if raw.ndim != 2:
            raise ValueError(f"mask has shape {raw.shape}, expected a single channel")
        if check:
            ids = np.unique(raw)
            bad = [int(i) for i in ids if not 0 <= i < self.lut.size or self.lut[int(i)] < 0]
            if bad:
                raise ValueError(
                    f"class ids {bad[:10]} are not dataset classes 0..{self.nc - 1} nor {IGNORE} (ignore); "
                    f"fix the mask or add them to 'label_mapping'"
                )
        return apply_lut(raw, self.lut, self.nc), {}

    def load(self, label: dict[str, Any], shape: tuple[int, int]) -> np.ndarray:
        """Class map of a verified sample at `shape` (h, w) (nearest resizing from the file's size)."""
        mask = self.decode(label["mask_file"])[0]
        if mask.shape != tuple(shape):
            mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
        return mask

    def describe(self) -> list[str]:
        """Informative lines about how labels are read (logged once per dataset)."""
        return []

    def summarize(self, labels: list[dict[str, Any]]) -> list[str]:
        """Dataset-level warnings gathered from the verified labels (one line each)."""
        return []


class ColorMaskFormat(LabelFormat):
    """RGB colour masks decoded with the dataset YAML's `colors:` table.

    Palette PNGs are decoded by their colours too; fully transparent pixels of RGBA masks are ignore. A colour that is
    not in the table becomes 255 and is reported by `summarize`, once per dataset, with pixel and file counts.

    Examples:
        >>> fmt = ColorMaskFormat({"names": {0: "road", 1: "car"}, "colors": {0: [128, 64, 128], 1: [0, 0, 142]}})
        >>> rgb = np.array([[[128, 64, 128], [0, 0, 142], [1, 2, 3]]], np.uint8)
        >>> decode_colors(rgb, fmt.keys, fmt.values)[0].tolist()
        [[0, 1, 255]]
    """

    name = "colors"

    @classmethod
    def validate_keys(cls, d: dict[str, Any], name: str) -> int:
        """Parse the `colors:` table (class: [r, g, b] or a list of colours) and raise for a malformed one.

        Raises:
            ValueError: With the YAML path `name` and the offending entry.
        """
        cls.color_table_of(d, name)
        return 0

    @classmethod
    def complete_keys(cls, d: dict[str, Any], name: str) -> None:
        """`colors` as {train id: [(r, g, b), ...]}."""
        d["colors"] = cls.color_table_of(d, name)

    @staticmethod
    def color_table_of(d: dict[str, Any], name: str) -> dict[int, list[tuple[int, ...]]]:
        """The dataset's `colors:` table parsed by `parse_colors`, its errors prefixed with the YAML path."""
        try:
            return parse_colors(d["colors"], d["names"], d.get("ignore_label", IGNORE))
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None

    def __init__(self, data: dict[str, Any]):
        """Read the dataset dict and its colour table (class -> RGB colours)."""
        super().__init__(data)
        self.colors = parse_colors(data["colors"], self.names, data.get("ignore_label", IGNORE))
        self.keys, self.values = color_table(self.colors)

    def cache_key(self) -> str:
        """Format, class count and colour table: what changes the decoded masks besides the files."""
        return f"{self.name}|{self.nc}|{sorted(self.colors.items())}|keep_truncated={self.keep_truncated}"

    def decode(self, path: str, check: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
        """Read a colour mask into train ids; with `check`, count the pixels of colours missing from the table."""
        rgb, transparent = read_color_mask(path)
        mask, unknown = decode_colors(rgb, self.keys, self.values)
        if transparent is not None:
            unknown &= ~transparent
            mask[transparent] = IGNORE
        info = {}
        if check and unknown.any():
            codes = np.unique(_rgb_codes(rgb[unknown]))
            info["unknown"] = (int(unknown.sum()), [_code_to_rgb(c) for c in codes[:3]])
        return mask, info

    def summarize(self, labels: list[dict[str, Any]]) -> list[str]:
        """One warning for every mask with colours missing from the table, with pixel and file counts and examples."""
        bad = [(x["mask_file"], *x["unknown"]) for x in labels if x.get("unknown")]
        if not bad:
            return []
        total = sum(n for _, n, _ in bad)
        examples = "; ".join(f"{f} ({n} px, RGB {', '.join(map(str, c))})" for f, n, c in bad[:2])
        return [
            f"{total} pixels in {len(bad)} of {len(labels)} masks have colours that are not in 'colors'; they are "
            f"ignored ({IGNORE}), never mapped to a class. Examples: {examples}"
        ]


class PolygonFormat(LabelFormat):
    """YOLO polygon labels (`labels/<split>/x.txt`, one `class x1 y1 x2 y2 ...` line per polygon, normalised 0..1).

    Polygons are rasterised at the requested size; larger polygons are painted first, so a smaller polygon inside a
    larger one stays visible. Pixels outside every polygon get `data['background']` (a class id, or 255 = ignore). An
    image without a `.txt` file has no polygons (the Ultralytics convention for background images).

    Examples:
        >>> polys = [(1, np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32))]
        >>> rasterize_polygons(polys, (2, 3), background=0).tolist()
        [[1, 1, 1], [1, 1, 1]]
    """

    name = "polygons"

    @staticmethod
    def folder(d: dict[str, Any]) -> str:
        """YOLO's `labels/` folder."""
        return "labels"

    @classmethod
    def validate_keys(cls, d: dict[str, Any], name: str) -> int:
        """Check `background` (a class id, a class name or 'ignore'); return 1 when it appends a 'background' class.

        Raises:
            ValueError: With the YAML path `name` and the offending value.
        """
        return int(cls.background_of(d, name)[1] is not None)

    @classmethod
    def complete_keys(cls, d: dict[str, Any], name: str) -> None:
        """`background` as a train id (255 = ignore).

        By default a class named 'background' (case-insensitive) if `names` has one, else a 'background' class
        appended to `names`, so that training, standalone validation and prediction all see the same class list.
        """
        d["background"], new_class = cls.background_of(d, name)
        if new_class is not None:  # a new last class: the class list of the model trained on this YAML includes it
            d["names"][d["background"]] = new_class
            d["nc"] = len(d["names"])

    @staticmethod
    def background_of(d: dict[str, Any], name: str) -> tuple[int, str | None]:
        """Train id of unlabelled pixels, and the name of the class to append for them (else None)."""
        names, bg = d["names"], d.get("background")
        if bg is None:
            bg = next((i for i, n in names.items() if str(n).lower() == "background"), "background")
        if isinstance(bg, bool) or not isinstance(bg, (int, str)):
            raise ValueError(f"{name}: 'background' must be a class id, a class name or 'ignore', not {bg!r}")
        if bg in IGNORE_WORDS or bg in {IGNORE, d.get("ignore_label", IGNORE)}:
            return IGNORE, None
        if isinstance(bg, int):
            if not 0 <= bg < len(names):
                raise ValueError(
                    f"{name}: 'background: {bg}' is not a class id 0..{len(names) - 1}, nor {IGNORE} / ignore"
                )
            return bg, None
        existing = next((i for i, n in names.items() if n == bg), None)
        return (existing, None) if existing is not None else (len(names), bg)

    def __init__(self, data: dict[str, Any]):
        """Read the dataset dict and the train id of pixels outside every polygon (`data['background']`)."""
        super().__init__(data)
        self.background = int(data["background"])

    def label_files(self, im_files: list[str]) -> list[str]:
        """Label file of each image: its YOLO `.txt` file in the `labels/` folder."""
        return img2label_paths(im_files)

    def cache_key(self) -> str:
        """The base key plus the background class, which changes every rasterised mask."""
        return f"{super().cache_key()}|background={self.background}"

    def verify(self, im_file: str, label_file: str, shape: tuple[int, int]) -> dict[str, Any]:
        """Parse one label file (a missing file means no polygons) and count the pixels of its rasterised class map.

        Raises:
            ValueError: With the label file and the offending line.
        """
        missing = not os.path.isfile(label_file)
        try:
            polygons = [] if missing else read_polygons(label_file, self.lut, self.nc)
        except ValueError as e:
            raise ValueError(f"{label_file}: {e}") from None
        mask = rasterize_polygons(polygons, shape, self.background)
        return {"counts": class_counts(mask, self.nc), "polygons": polygons, "missing": missing}

    def load(self, label: dict[str, Any], shape: tuple[int, int]) -> np.ndarray:
        """Rasterise the sample's verified polygons at `shape` (h, w)."""
        return rasterize_polygons(label["polygons"], shape, self.background)

    def describe(self) -> list[str]:
        """Which class pixels outside every polygon get."""
        b = self.background
        bg = f"{b} (ignore)" if b == IGNORE else f"class {b} '{self.names[b]}'"
        return [f"pixels outside every polygon are {bg} (dataset YAML key 'background')"]

    def summarize(self, labels: list[dict[str, Any]]) -> list[str]:
        """Warn about images without a label file; refuse a dataset where no image has one.

        Raises:
            FileNotFoundError: If no image has a label file (the labels are probably somewhere else).
        """
        missing = [x for x in labels if x.get("missing")]
        if labels and len(missing) == len(labels):
            raise FileNotFoundError(
                f"no YOLO polygon labels found: none of the {len(labels)} images has a .txt label file, e.g. "
                f"{img2label_paths([labels[0]['im_file']])[0]}"
            )
        if not missing:
            return []
        return [
            f"{len(missing)} of {len(labels)} images have no label file and contain no polygons, e.g. "
            f"{img2label_paths([missing[0]['im_file']])[0]}"
        ]


FORMATS = {f.name: f for f in (LabelFormat, ColorMaskFormat, PolygonFormat)}
DETECTED = (LabelFormat, PolygonFormat)  # formats found by their folder, in order of precedence (colours need a table)


def resolve_label_format(d: dict[str, Any], name: str = "dataset YAML") -> type[LabelFormat]:
    """The label format of a dataset dict: `label_format` as written, `colors` with a colour table, else detected.

    Detection looks for each format's folder (`LabelFormat.folder`) mirrored from a split's `images/` folder, then
    under `path`: the first found wins (class-id masks before polygon labels); class-id masks when none is.

    Raises:
        ValueError: With the YAML path `name`, for an unknown `label_format` or one that contradicts `colors`.

    Examples:
        >>> resolve_label_format({"names": {0: "a"}, "colors": {0: [1, 2, 3]}}).name
        'colors'
    """
    fmt = d.get("label_format")
    if fmt not in {None, *FORMATS}:
        raise ValueError(f"{name}: 'label_format: {fmt}' must be one of {', '.join(FORMATS)}")
    if d.get("colors") is not None:
        if fmt not in (None, ColorMaskFormat.name):
            raise ValueError(f"{name}: 'colors' is for colour masks; it cannot be used with 'label_format: {fmt}'")
        return ColorMaskFormat
    if fmt == ColorMaskFormat.name:
        raise ValueError(f"{name}: 'label_format: colors' needs a 'colors:' table (class: [r, g, b])")
    return FORMATS[fmt] if fmt else _detect(d)


def _detect(d: dict[str, Any]) -> type[LabelFormat]:
    """The first format of DETECTED whose folder exists beside a split's images, else under `path`, else masks."""
    for split in ("train", "val", "test"):
        paths = d.get(split) or []
        for p in [os.fspath(x) + os.sep for x in (paths if isinstance(paths, list) else [paths])]:
            if IMAGES_DIR in p and os.path.isdir(p):
                for fmt in DETECTED:
                    if os.path.isdir(mirror_path(p, fmt.folder(d))):
                        return fmt
    root = d.get("path") or "."
    return next((f for f in DETECTED if os.path.isdir(os.path.join(root, f.folder(d)))), LabelFormat)


def label_format_for(data: dict[str, Any]) -> LabelFormat:
    """The label format object of a dataset dict settled by `settle_semseg_keys` (its `label_format` key).

    Examples:
        >>> label_format_for({"names": {0: "a"}, "label_format": "colors", "colors": {0: [1, 2, 3]}}).name
        'colors'
    """
    return FORMATS[data.get("label_format") or LabelFormat.name](data)


def class_counts(mask: np.ndarray, nc: int) -> np.ndarray:
    """Pixels per class 0..nc-1 of a class map (ignore excluded)."""
    return np.bincount(mask[mask != IGNORE].ravel(), minlength=nc)[:nc]


def verify_pair(args: tuple[str, str, LabelFormat]) -> tuple[dict | None, str]:
    """Check one image/label pair; return (label dict, '') when usable, or (None, reason) naming file and problem.

    The image's structure is checked and it is decoded in full (`decoded_image_size`), so a truncated file is caught
    here and not mid-epoch; with `truncated: keep` in the dataset YAML a truncated image that still decodes is kept,
    its label dict marked 'truncated' (see `kept_truncated`). The label dict holds the file paths, the image shape
    (h, w), per-class pixel counts and format extras. Nothing is written.
    """
    im_file, label_file, fmt = args
    kept = {}
    try:
        try:
            h, w = decoded_image_size(im_file)
        except TruncatedImageError as e:
            if not fmt.keep_truncated:
                raise
            h, w = decoded_image_size(im_file, keep_truncated=True)  # still an error when nothing decodes
            kept = {"truncated": str(e)}
        info = fmt.verify(im_file, label_file, (h, w))
    except ValueError as e:
        return None, str(e)
    return {"im_file": im_file, "mask_file": label_file, "shape": (h, w), **info, **kept}, ""


def kept_truncated(labels: list[dict]) -> list[str]:
    """One warning per truncated image kept by the dataset YAML's `truncated: keep` (named once, like a skip)."""
    return [
        f"{x['truncated']} - kept because the dataset YAML sets 'truncated: keep': its missing part is decoded as grey "
        "and trained on with the full mask"
        for x in labels
        if x.get("truncated")
    ]


def scan_pairs(
    im_files: list[str], label_files: list[str], fmt: LabelFormat, desc: str = "Scanning"
) -> tuple[list[dict], list[str]]:
    """Verify all pairs in parallel with a progress bar; return (usable labels, problem messages).

    Examples:
        >>> fmt = label_format_for(data)  # doctest: +SKIP
        >>> labels, msgs = scan_pairs(im_files, fmt.label_files(im_files), fmt)  # doctest: +SKIP
    """
    labels, msgs = [], []
    with ThreadPool(NUM_THREADS) as pool:
        jobs = ((f, m, fmt) for f, m in zip(im_files, label_files))
        for label, msg in TQDM(pool.imap(verify_pair, jobs), desc=desc, total=len(im_files)):
            labels.append(label) if label else msgs.append(msg)
    return labels, msgs


# Colour masks ---------------------------------------------------------------------------------------------------------


def parse_colors(colors: Any, names: dict[int, str], ignore_label: int = IGNORE) -> dict[int, list[tuple[int, ...]]]:
    """Normalise a `colors:` table to {train id: [(r, g, b), ...]}.

    Keys are class ids, class names, or 255 / 'ignore' for colours that mean ignore (and are then not reported as
    unknown). Values are one colour or a list of colours, each `[r, g, b]` or `'#rrggbb'`.

    Raises:
        ValueError: Naming the entry, for unknown classes, malformed colours and a colour given to two classes.

    Examples:
        >>> table = {"road": [128, 64, 128], 1: ["#00008e", [0, 0, 140]], "ignore": [0, 0, 0]}
        >>> parse_colors(table, {0: "road", 1: "car"})
        {0: [(128, 64, 128)], 1: [(0, 0, 142), (0, 0, 140)], 255: [(0, 0, 0)]}
    """
    if not isinstance(colors, dict) or not colors:
        raise ValueError("'colors' must map classes to RGB colours, e.g. {0: [128, 64, 128], 1: [0, 0, 142]}")
    by_name = {str(n): i for i, n in names.items()}
    out: dict[int, list[tuple[int, ...]]] = {}
    owner: dict[tuple[int, ...], int] = {}
    for key, value in colors.items():
        cid = _color_class(key, by_name, len(names), ignore_label)
        for rgb in _rgb_list(value, key):
            if owner.get(rgb, cid) != cid:
                raise ValueError(f"'colors': colour {list(rgb)} is given to both {owner[rgb]} and {cid}")
            owner[rgb] = cid
            if rgb not in out.setdefault(cid, []):
                out[cid].append(rgb)
    return out


def _color_class(key: Any, by_name: dict[str, int], nc: int, ignore_label: int) -> int:
    """Train id of a `colors:` key."""
    if isinstance(key, int) and not isinstance(key, bool):
        if 0 <= key < nc:
            return key
        if key in {ignore_label, IGNORE}:
            return IGNORE
    elif isinstance(key, str):
        if key in by_name:
            return by_name[key]
        if key in IGNORE_WORDS:
            return IGNORE
    raise ValueError(f"'colors' key {key!r} is not a class id 0..{nc - 1}, a class name, {IGNORE} or 'ignore'")


def _rgb_list(value: Any, key: Any) -> list[tuple[int, ...]]:
    """One or several colours of a `colors:` entry as (r, g, b) tuples."""
    single = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value))
    out = []
    for v in [value] if single else value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(v, str) and len(v) == 7 and v.startswith("#"):
            with contextlib.suppress(ValueError):
                v = [int(v[i : i + 2], 16) for i in (1, 3, 5)]
        ok = isinstance(v, (list, tuple)) and len(v) == 3
        if not ok or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in v):
            raise ValueError(f"'colors' entry {key!r}: {v!r} is not an RGB colour [r, g, b] (0..255) or '#rrggbb'")
        out.append(tuple(v))
    if not out:
        raise ValueError(f"'colors' entry {key!r} has no colour")
    return out


def color_table(colors: dict[int, list[tuple[int, ...]]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted 24-bit colour codes and their train ids, for `decode_colors`."""
    pairs = sorted((_rgb_codes(np.array(rgb, np.uint8)[None])[0], cid) for cid, rgbs in colors.items() for rgb in rgbs)
    return np.array([p[0] for p in pairs], np.uint32), np.array([p[1] for p in pairs], np.uint8)


def decode_colors(rgb: np.ndarray, keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map an (H, W, 3) RGB mask to train ids with a colour table; return (class map, boolean map of unknown colours).

    Unknown colours become 255 (ignore).

    Examples:
        >>> keys, values = color_table({0: [(128, 64, 128)], 1: [(0, 0, 142)]})
        >>> mask, unknown = decode_colors(np.array([[[0, 0, 142], [9, 9, 9]]], np.uint8), keys, values)
        >>> mask.tolist(), unknown.tolist()
        ([[1, 255]], [[False, True]])
    """
    code = _rgb_codes(rgb)
    idx = np.searchsorted(keys, code).clip(max=len(keys) - 1)
    known = keys[idx] == code
    return np.where(known, values[idx], np.uint8(IGNORE)).astype(np.uint8), ~known


def _rgb_codes(rgb: np.ndarray) -> np.ndarray:
    """24-bit codes r << 16 | g << 8 | b of (..., 3) uint8 colours."""
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _code_to_rgb(code: int) -> tuple[int, int, int]:
    return int(code) >> 16 & 255, int(code) >> 8 & 255, int(code) & 255


def read_color_mask(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a colour mask as (H, W, 3) RGB plus a boolean map of fully transparent pixels (None without alpha).

    Raises:
        ValueError: For single-channel masks, which hold ids rather than colours, and unreadable files.
    """
    try:
        with Image.open(path) as im:
            if im.mode in {"P", "PA"}:
                im = im.convert("RGBA")
            if im.mode not in {"RGB", "RGBA"}:
                raise ValueError(
                    f"mask is single-channel (mode {im.mode}) but the dataset YAML has a 'colors:' table; "
                    "expected RGB colour masks (remove 'colors:' for class-id masks)"
                )
            arr = np.asarray(im)
    except ValueError:
        raise
    except Exception as e:
        raise ValueError(f"unreadable mask ({type(e).__name__}: {e})") from e
    return (arr[..., :3], arr[..., 3] == 0) if arr.shape[2] == 4 else (arr, None)


# Polygons -------------------------------------------------------------------------------------------------------------


def read_polygons(path: str, lut: np.ndarray, nc: int, tol: float = 1e-3) -> list[Polygon]:
    r"""Parse a YOLO polygon label file into (train id, (N, 2) normalised points) with `lut` mapping the class ids.

    Raises:
        ValueError: Naming the line, for bounding-box lines, odd coordinate counts, unknown classes and coordinates
            outside 0..1.

    Examples:
        >>> import tempfile
        >>> f = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        >>> _ = f.write("1 0.1 0.1 0.9 0.1 0.5 0.8\n"); f.close()
        >>> [(c, p.shape) for c, p in read_polygons(f.name, build_label_lut(2), 2)]
        [(1, (3, 2))]
    """
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"unreadable label file ({type(e).__name__}: {e})") from e
    out = []
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 7 or len(parts) % 2 == 0:
            what = " (a bounding box?)" if len(parts) == 5 else ""
            raise ValueError(
                f"line {n} has {len(parts)} values{what}; a polygon line is a class id and at least 3 x y points"
            )
        try:
            cls, xy = int(parts[0]), np.array(parts[1:], np.float32).reshape(-1, 2)
        except ValueError:
            raise ValueError(f"line {n} is not numbers: {line[:60]!r}") from None
        train = int(lut[cls]) if 0 <= cls < lut.size else -1
        if train < 0:
            raise ValueError(f"line {n}: class id {cls} is not a dataset class 0..{nc - 1}")
        if (xy < -tol).any() or (xy > 1 + tol).any() or not np.isfinite(xy).all():
            raise ValueError(f"line {n}: coordinates outside 0..1 (YOLO polygons are normalised by image width/height)")
        out.append((train, xy.clip(0, 1)))
    return out


def rasterize_polygons(polygons: list[Polygon], shape: tuple[int, int], background: int = IGNORE) -> np.ndarray:
    """Class map of `shape` (h, w): `background` everywhere, each polygon filled with its class, largest first.

    OpenCV's `fillPoly` at 1/16-pixel precision with pixel centres at half-integer coordinates: the pixels inside
    plus those the outline passes through, so polygons sharing an edge leave no unlabelled gap between them.
    """
    h, w = int(shape[0]), int(shape[1])
    mask = np.full((h, w), background, np.uint8)
    if not polygons:
        return mask
    scale = np.array([w, h], np.float32)
    pts = [np.round((xy * scale - 0.5) * 16).astype(np.int32) for _, xy in polygons]
    areas = np.array([abs(cv2.contourArea(p.astype(np.float32))) for p in pts])
    for i in np.argsort(-areas, kind="stable"):
        cv2.fillPoly(mask, [pts[i]], int(polygons[i][0]), lineType=cv2.LINE_8, shift=4)
    return mask
