"""The built-in synthetic-streets dataset: procedural street scenes with class-id masks, generated offline.

The dataset is generated on the fly, deterministically and offline, so the plug-in has a default dataset that needs no
download. Each image is a simplified street scene (sky, buildings, vegetation, road, sidewalks, poles, cars, persons)
with a matching single-channel mask (class id per pixel, 255 = ignore).

Only numpy, OpenCV and the standard library are used on purpose: this module must import without torch/ultralytics.
"""

from __future__ import annotations

import argparse
import colorsys
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ultralytics_semseg.constants import IGNORE

STREET_NAMES: dict[int, str] = {
    0: "road",
    1: "sidewalk",
    2: "building",
    3: "vegetation",
    4: "sky",
    5: "pole",
    6: "car",
    7: "person",
}
STREETS_VERSION: int = 1  # bump when the generated content changes

ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, POLE, CAR, PERSON = range(8)

_MARKER = ".complete"
_SPLITS = {"train": 0, "val": 1}  # split id mixed into the per-image seed
_OWN_DIRS = {"images", "masks", "images/train", "images/val", "masks/train", "masks/val"}
_OWN_FILE = re.compile(r"(images/(train|val)/toy_\d{5}\.jpg|masks/(train|val)/toy_\d{5}\.png|\.complete)")

# Base colours (BGR). Several deliberately overlap across classes so a model has to use shape and context.
_BUILDING_COLORS = ((150, 180, 200), (70, 95, 130), (130, 130, 130), (180, 180, 175), (60, 70, 140), (200, 205, 210))
_VEGETATION_COLORS = ((50, 120, 60), (30, 80, 40), (60, 140, 120), (40, 100, 80))

Color = tuple[float, float, float]


@dataclass(frozen=True)
class _Scene:
    """Per-image layout: horizon, vanishing point, road/sidewalk trapezoids and the ego-hood line."""

    h: int
    w: int
    horizon: float
    vx: float
    road: tuple[float, float, float]  # top half-width, bottom-left x, bottom-right x
    walk: tuple[float, float, float]  # same for the outer sidewalk edge (where the facades start)
    hood_top: float

    def depth(self, y: float) -> float:
        """0 at the horizon, 1 at the bottom row; used as a perspective scale."""
        return (y - self.horizon) / (self.h - self.horizon)

    def edges(self, y: float, outer: bool = False) -> tuple[float, float]:
        """Left and right x of the road (or of the outer sidewalk edge) at image row y."""
        tw, bl, br = self.walk if outer else self.road
        t = self.depth(y)
        return self.vx - tw + (bl - self.vx + tw) * t, self.vx + tw + (br - self.vx - tw) * t


def _jitter(rng: np.random.Generator, color: tuple[float, ...], amount: float) -> Color:
    """Random per-region colour variation, clipped to the valid range."""
    c = np.clip(np.asarray(color, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)
    return float(c[0]), float(c[1]), float(c[2])


def _hsv_color(rng: np.random.Generator, s: tuple[float, float], v: tuple[float, float]) -> Color:
    """Random hue with saturation/value in the given ranges, as BGR 0..255."""
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*s), rng.uniform(*v))
    return b * 255, g * 255, r * 255


def _fill(
    img: np.ndarray, mask: np.ndarray, pts: list[np.ndarray], cls: int, color: Color, inst: np.ndarray | None = None
) -> None:
    """Fill polygons in image and mask with the same rasterisation so they align exactly."""
    pts = [np.round(p).astype(np.int32).reshape(-1, 1, 2) for p in pts]
    cv2.fillPoly(mask, pts, cls)
    cv2.fillPoly(img, pts, color)
    if inst is not None:
        cv2.fillPoly(inst, pts, 1)


def _ellipse(cx: float, cy: float, ax: float, ay: float) -> np.ndarray:
    """Ellipse as a polygon, so every shape goes through the same fillPoly path."""
    return cv2.ellipse2Poly((round(cx), round(cy)), (max(1, round(ax)), max(1, round(ay))), 0, 0, 360, 10)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Axis-aligned rectangle polygon (inclusive pixel corners)."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
    """Rectangle with circular corners of radius r, as a polygon."""
    r = max(1.0, min(r, (x1 - x0) / 2, (y1 - y0) / 2))
    corners = ((x1 - r, y0 + r, 270), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180))
    a = np.deg2rad(np.arange(0, 91, 15))
    arcs = [
        np.stack([cx + r * np.cos(np.deg2rad(s) + a), cy + r * np.sin(np.deg2rad(s) + a)], 1) for cx, cy, s in corners
    ]
    return np.concatenate(arcs).astype(np.float32)


def _make_scene(rng: np.random.Generator, h: int, w: int) -> _Scene:
    """Sample the perspective layout shared by all later drawing steps."""
    vx = rng.uniform(0.38, 0.62) * w
    tw = rng.uniform(0.005, 0.02) * w
    bl, br = vx - rng.uniform(0.55, 0.85) * w, vx + rng.uniform(0.55, 0.85) * w
    walk = (tw * rng.uniform(2.0, 3.0) + 1, bl - rng.uniform(0.4, 0.9) * w, br + rng.uniform(0.4, 0.9) * w)
    return _Scene(h, w, rng.uniform(0.30, 0.45) * h, vx, (tw, bl, br), walk, h * (1 - rng.uniform(0.04, 0.08)))


def _draw_sky(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """Blue (or overcast grey) to near-white vertical gradient over the whole canvas."""
    top = _jitter(rng, (210, 160, 100) if rng.random() < 0.75 else (200, 195, 190), 25)
    bottom = np.asarray(_jitter(rng, (235, 225, 215), 15), np.float32)
    t = np.clip(np.arange(sc.h, dtype=np.float32) / sc.horizon, 0, 1)[:, None]
    img[:] = (np.asarray(top, np.float32) * (1 - t) + bottom * t)[:, None, :]
    mask[:] = SKY


def _draw_windows(img: np.ndarray, x0: int, x1: int, y0: int, y1: int, base: Color, rng: np.random.Generator) -> None:
    """Window grid or floor stripes; texture only, the mask stays 'building'."""
    s = img.shape[0] / 128
    sx, sy = rng.uniform(5, 11) * s, rng.uniform(6, 12) * s
    dark = _jitter(rng, tuple(0.55 * c for c in base), 10)
    glass = dark if rng.random() < 0.6 else _jitter(rng, (190, 170, 150), 20)  # sky-like reflections
    if rng.random() < 0.3:
        for y in np.arange(y0 + sy / 2, y1, sy):
            img[int(y) : int(y) + max(1, round(s)), x0:x1] = dark
        return
    for y in np.arange(y0 + sy * 0.3, y1 - sy * 0.5, sy):
        for x in np.arange(x0 + sx * 0.3, x1 - sx * 0.5, sx):
            img[int(y) : int(y + sy * 0.5), int(x) : int(x + sx * 0.5)] = glass


def _draw_buildings(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """Row of facades standing on the horizon, taller toward the image sides (street canyon)."""
    x = rng.uniform(-0.05, 0.0) * sc.w
    while x < sc.w:
        bw = rng.uniform(0.07, 0.22) * sc.w
        x0, x1 = max(0, int(x)), min(sc.w, int(x + bw))
        if rng.random() < 0.15:  # gap: sky above, a low hedge below the horizon
            _fill(img, mask, [_rect(x0, sc.horizon, x1, sc.h)], VEGETATION, _jitter(rng, _VEGETATION_COLORS[1], 20))
            x += bw * 0.6
            continue
        side = abs(x + bw / 2 - sc.vx) / (sc.w / 2)
        top = max(0, int(sc.horizon * (1 - rng.uniform(0.25, 0.55) - rng.uniform(0.3, 0.9) * side)))
        base = _jitter(rng, _BUILDING_COLORS[rng.integers(len(_BUILDING_COLORS))], 20)
        _fill(img, mask, [_rect(x0, top, x1 - 1, sc.h)], BUILDING, base)
        _draw_windows(img, x0, x1, top, sc.h, base, rng)
        x += bw


def _draw_lane_marks(img: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """Dashed centre line with perspective-correct dash spacing; drawn as road in the mask."""
    color = _jitter(rng, (215, 215, 210), 20)
    xb = (sc.road[1] + sc.road[2]) / 2 + rng.uniform(-0.1, 0.1) * sc.w
    period, duty = rng.uniform(0.8, 1.6), rng.uniform(0.35, 0.6)
    z = np.arange(0.0, 40.0, period)  # inverse depth: dashes shrink toward the horizon
    for z0 in z:
        t0, t1 = 1 / (1 + z0 + period * duty), 1 / (1 + z0)
        pts = []
        for t, sgn in ((t0, -1), (t1, -1), (t1, 1), (t0, 1)):
            xc, half = sc.vx + (xb - sc.vx) * t, max(0.5, 0.012 * sc.w * t)
            pts.append((xc + sgn * half, sc.horizon + t * (sc.h - sc.horizon)))
        cv2.fillPoly(img, [np.round(np.array(pts)).astype(np.int32)], color)


def _draw_ground(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """Sidewalk trapezoid (outer edge = facades) with the road trapezoid and lane marks on top."""
    for tw, bl, br, cls, color in (
        (*sc.walk, SIDEWALK, _jitter(rng, (150, 150, 165), 25)),
        (*sc.road, ROAD, _jitter(rng, (85, 85, 90), 20)),
    ):
        pts = np.array([[sc.vx - tw, sc.horizon], [sc.vx + tw, sc.horizon], [br, sc.h + 1], [bl, sc.h + 1]])
        _fill(img, mask, [pts], cls, color)
    _draw_lane_marks(img, sc, rng)


def _draw_vegetation(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """Clusters of ellipses (tree crowns/bushes) near the horizon, partly in front of buildings."""
    for _ in range(rng.integers(1, 4)):
        left = rng.random() < 0.5
        cx = rng.uniform(0, sc.vx - 0.12 * sc.w) if left else rng.uniform(sc.vx + 0.12 * sc.w, sc.w)
        cy = sc.horizon - rng.uniform(0.02, 0.25) * sc.h
        r = rng.uniform(0.06, 0.14) * sc.h * (1 + abs(cx - sc.vx) / sc.w)
        base = _VEGETATION_COLORS[rng.integers(len(_VEGETATION_COLORS))]
        if rng.random() < 0.5:  # trunk down to the ground (trunks count as vegetation, as in Cityscapes)
            trunk = _rect(cx - max(1, r * 0.08), cy, cx + max(1, r * 0.08), sc.horizon + r * 0.3)
            _fill(img, mask, [trunk], VEGETATION, _jitter(rng, (50, 70, 90), 15))
        for _ in range(rng.integers(4, 9)):
            ex, ey = cx + rng.normal(0, r * 0.6), cy + rng.normal(0, r * 0.4)
            poly = _ellipse(ex, ey, r * rng.uniform(0.5, 1.0), r * rng.uniform(0.4, 0.8))
            _fill(img, mask, [poly], VEGETATION, _jitter(rng, base, 25))


def _sidewalk_spot(sc: _Scene, rng: np.random.Generator, t_min: float) -> tuple[float, float] | None:
    """Random ground point on a visible sidewalk strip, or None if none was found quickly."""
    for _ in range(6):
        y = sc.horizon + rng.uniform(t_min, 0.95) * (sc.hood_top - sc.horizon)
        (rl, rr), (ol, orr) = sc.edges(y), sc.edges(y, outer=True)
        lo, hi = (max(ol, 1), rl - 1) if rng.random() < 0.5 else (rr + 1, min(orr, sc.w - 2))
        if hi - lo > 2:
            return lo + (hi - lo) * rng.uniform(0.3, 0.9), y
    return None


def _draw_poles(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """1-3 thin (1-3 px) vertical poles from the sidewalk up into buildings/sky: the thin class."""
    for _ in range(rng.integers(1, 4)):
        spot = _sidewalk_spot(sc, rng, 0.1)
        if spot is None:
            continue
        x, y = spot
        t = sc.depth(y)
        width = int(np.clip(round(1 + 2 * t + rng.normal(0, 0.4)), 1, 3))
        top = y - (y - sc.horizon) * rng.uniform(2.5, 4.5) - 4
        color = _jitter(rng, (50, 50, 55) if rng.random() < 0.6 else (120, 120, 120), 15)
        _fill(img, mask, [_rect(x, top, x + width - 1, y)], POLE, color)


def _outline(mask: np.ndarray, inst: np.ndarray) -> None:
    """Mark a 1-px ring around an instance as ignore (ambiguous boundary)."""
    ring = (cv2.dilate(inst, np.ones((3, 3), np.uint8)) > 0) & (inst == 0)
    mask[ring] = IGNORE


def _draw_car(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator, x: float, y: float) -> None:
    """Rear view of a car: rounded body, cabin with dark window band, wheels and tail lights."""
    cw = (y - sc.horizon) * rng.uniform(1.0, 1.4)
    ch = cw * rng.uniform(0.55, 0.75)
    inst = np.zeros_like(mask)
    body = _hsv_color(rng, (0.5, 1.0), (0.4, 0.9)) if rng.random() < 0.7 else _hsv_color(rng, (0, 0.1), (0.1, 0.95))
    for wx in (x - 0.32 * cw, x + 0.32 * cw):
        _fill(img, mask, [_rect(wx - 0.09 * cw, y - 0.2 * ch, wx + 0.09 * cw, y)], CAR, (20, 20, 22), inst)
    _fill(img, mask, [_rounded_rect(x - cw / 2, y - 0.58 * ch, x + cw / 2, y - 0.08 * ch, 0.12 * ch)], CAR, body, inst)
    cabin = np.array(
        [[x - 0.4 * cw, y - 0.55 * ch], [x - 0.3 * cw, y - ch], [x + 0.3 * cw, y - ch], [x + 0.4 * cw, y - 0.55 * ch]]
    )
    _fill(img, mask, [cabin], CAR, body, inst)
    window = np.array(
        [
            [x - 0.34 * cw, y - 0.6 * ch],
            [x - 0.27 * cw, y - 0.93 * ch],
            [x + 0.27 * cw, y - 0.93 * ch],
            [x + 0.34 * cw, y - 0.6 * ch],
        ]
    )
    _fill(img, mask, [window], CAR, _jitter(rng, (55, 45, 40), 12))
    for lx in (x - 0.42 * cw, x + 0.34 * cw):
        _fill(img, mask, [_rect(lx, y - 0.48 * ch, lx + 0.08 * cw, y - 0.4 * ch)], CAR, _jitter(rng, (40, 40, 200), 20))
    _outline(mask, inst)


def _draw_person(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator, x: float, y: float) -> None:
    """Upright pedestrian: legs, ellipse torso and circular head."""
    ph = max(8.0, (y - sc.horizon) * rng.uniform(1.0, 1.25))
    inst = np.zeros_like(mask)
    trousers = _hsv_color(rng, (0.0, 0.5), (0.1, 0.5))
    _fill(img, mask, [_rect(x - 0.1 * ph, y - 0.48 * ph, x + 0.1 * ph, y)], PERSON, trousers, inst)
    _fill(
        img,
        mask,
        [_ellipse(x, y - 0.6 * ph, 0.15 * ph, 0.22 * ph)],
        PERSON,
        _hsv_color(rng, (0.2, 0.8), (0.2, 0.85)),
        inst,
    )
    skin = _jitter(rng, (110, 150, 200) if rng.random() < 0.6 else (60, 80, 110), 15)
    _fill(img, mask, [_ellipse(x, y - 0.88 * ph, 0.085 * ph, 0.085 * ph)], PERSON, skin, inst)
    _outline(mask, inst)


def _draw_agents(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """Cars on the road and persons on sidewalks, painted far-to-near so near ones occlude far ones."""
    agents = []
    for _ in range(rng.choice(4, p=[0.1, 0.3, 0.35, 0.25])):
        y = sc.horizon + rng.uniform(0.12, 1.0) * (sc.hood_top + 0.02 * sc.h - sc.horizon)
        cw = (y - sc.horizon) * 1.2
        lo, hi = max(sc.edges(y)[0], 0) + 0.4 * cw, min(sc.edges(y)[1], sc.w) - 0.4 * cw
        if hi > lo:
            agents.append((y, rng.uniform(lo, hi), _draw_car))
    for _ in range(rng.choice(3, p=[0.15, 0.45, 0.4])):
        spot = _sidewalk_spot(sc, rng, 0.15)
        if spot is not None:
            agents.append((spot[1], spot[0], _draw_person))
    for y, x, draw in sorted(agents, key=lambda a: a[0]):
        draw(img, mask, sc, rng, x, y)


def _draw_hood(img: np.ndarray, mask: np.ndarray, sc: _Scene, rng: np.random.Generator) -> None:
    """Ego-vehicle hood: dark band at the bottom, curved upward in the middle; ignore in the mask."""
    xs = np.linspace(0, sc.w, 17)
    ys = sc.hood_top + rng.uniform(0, 0.03) * sc.h * ((xs - sc.w / 2) / (sc.w / 2)) ** 2
    pts = np.concatenate([np.stack([xs, ys], 1), [[sc.w, sc.h + 1], [0, sc.h + 1]]])
    _fill(img, mask, [pts], IGNORE, _jitter(rng, (35, 35, 38), 10))


def _finish(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class textures, photometric jitter and sensor noise; returns the uint8 BGR image."""
    h, w = mask.shape
    speck = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.8)
    gain = 1 + np.where(mask == VEGETATION, 0.5, np.where(mask == ROAD, 0.12, 0.06)) * speck
    img = cv2.GaussianBlur(img * gain[..., None], (0, 0), 0.5)  # soften aliased polygon edges
    img = img * rng.uniform(0.92, 1.08, 3).astype(np.float32)  # colour cast
    img = (img - 128) * rng.uniform(0.8, 1.2) + 128 + rng.uniform(-25, 25)  # contrast/brightness
    img += rng.normal(0, rng.uniform(4, 8), img.shape).astype(np.float32)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def render_scene(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Render one image/mask pair, painting back to front."""
    img, mask = np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.uint8)
    sc = _make_scene(rng, h, w)
    for draw in (_draw_sky, _draw_buildings, _draw_ground, _draw_vegetation, _draw_poles, _draw_agents, _draw_hood):
        draw(img, mask, sc, rng)
    return _finish(img, mask, rng), mask


def _imwrite(path: Path, image: np.ndarray, params: list[int] | None = None) -> None:
    """Encode in memory and write bytes: cv2.imwrite fails silently and cannot handle non-ASCII paths on Windows."""
    ok, buf = cv2.imencode(path.suffix, image, params or [])
    if not ok:
        raise OSError(f"could not encode {path}")
    path.write_bytes(buf.tobytes())


def _write_split(out: Path, split: str, n: int, height: int, width: int, seed: int) -> None:
    """Render and write n image/mask pairs; each image has its own RNG so it is independent of the others."""
    img_dir, mask_dir = out / "images" / split, out / "masks" / split
    img_dir.mkdir(parents=True)
    mask_dir.mkdir(parents=True)
    for i in range(n):
        img, mask = render_scene(np.random.default_rng([seed, _SPLITS[split], i]), height, width)
        _imwrite(img_dir / f"toy_{i:05d}.jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        _imwrite(mask_dir / f"toy_{i:05d}.png", mask)


def _is_complete(root: Path, meta: dict) -> bool:
    """True if root holds a finished dataset generated with exactly these parameters."""
    try:
        return json.loads((root / _MARKER).read_text()) == meta
    except (OSError, ValueError):
        return False


def _first_foreign(root: Path) -> Path | None:
    """First path under root that this module would not have written (symlinks always count as foreign)."""
    if root.is_symlink() or not root.is_dir():
        return root
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = p.relative_to(root).as_posix()
            ours = rel in _OWN_DIRS if name in dirnames else bool(_OWN_FILE.fullmatch(rel))
            if p.is_symlink() or not ours:
                return p
    return None


def _check_replaceable(root: Path) -> None:
    """Raise FileExistsError unless root is absent or holds nothing but (partial) output of this module."""
    if not root.exists() and not root.is_symlink():
        return
    foreign = _first_foreign(root)
    if foreign is not None:
        raise FileExistsError(
            f"{root} exists and contains data not written by generate_synthetic_streets ({foreign}); "
            "refusing to overwrite user data. Choose another root or remove it yourself."
        )


def _install(tmp: Path, root: Path, meta: dict) -> None:
    """Move the finished temp dir into place, replacing only our own incomplete output."""
    if _is_complete(root, meta):  # another process won the race
        return
    if root.exists():
        _check_replaceable(root)
        shutil.rmtree(root, ignore_errors=True)  # a failure here surfaces in os.replace below
    try:
        os.replace(tmp, root)
    except OSError:
        if not _is_complete(root, meta):
            raise


def generate_synthetic_streets(
    root: str | Path, n_train: int = 96, n_val: int = 24, height: int = 128, width: int = 256, seed: int = 0
) -> Path:
    """Write the synthetic-streets dataset under root (if not already complete) and return root.

    Layout: ``images/{train,val}/toy_00000.jpg`` (BGR JPEG, quality 95), ``masks/{train,val}/toy_00000.png``
    (uint8, class id 0..7 as in STREET_NAMES, 255 = ignore) and a ``.complete`` JSON marker. Output is byte-identical
    for identical parameters. Generation happens in a temporary sibling directory that is then moved into place.

    Args:
        root: Target directory. Must be absent, empty, or hold only (partial) output of this function.
        n_train: Number of training images.
        n_val: Number of validation images.
        height: Image height in pixels.
        width: Image width in pixels.
        seed: Non-negative base seed.

    Returns:
        The absolute dataset root.

    Raises:
        FileExistsError: If root contains files this function did not write.
        ValueError: If a parameter is out of range.

    Examples:
        >>> import tempfile
        >>> root = generate_synthetic_streets(Path(tempfile.mkdtemp()) / "toy-streets", n_train=2, n_val=1)
        >>> sorted(p.name for p in root.iterdir())
        ['.complete', 'images', 'masks']
        >>> generate_synthetic_streets(root, n_train=2, n_val=1) == root  # second call is a no-op
        True
        >>> shutil.rmtree(root.parent)
    """
    if n_train < 0 or n_val < 0 or seed < 0 or height < 32 or width < 32:
        raise ValueError("need n_train, n_val, seed >= 0 and height, width >= 32")
    root = Path(os.path.abspath(Path(root).expanduser()))  # no resolve(): a symlinked root must not be followed
    meta = {
        "version": STREETS_VERSION,
        "n_train": n_train,
        "n_val": n_val,
        "height": height,
        "width": width,
        "seed": seed,
    }
    if _is_complete(root, meta):
        return root
    _check_replaceable(root)  # fail fast, before spending time on generation
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)  # stale temp dir of a crashed run with our pid
    try:
        _write_split(tmp, "train", n_train, height, width, seed)
        _write_split(tmp, "val", n_val, height, width, seed)
        (tmp / _MARKER).write_text(json.dumps(meta, indent=2, sort_keys=True))  # last: marks completeness
        _install(tmp, root, meta)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _pixel_shares(root: Path, split: str) -> dict[str, float]:
    """Fraction of all mask pixels per class (and ignore) in one split."""
    counts = np.zeros(256, np.int64)
    for p in sorted((root / "masks" / split).glob("*.png")):
        counts += np.bincount(cv2.imread(str(p), cv2.IMREAD_UNCHANGED).ravel(), minlength=256)
    total = max(int(counts.sum()), 1)
    return {**{name: counts[i] / total for i, name in STREET_NAMES.items()}, "ignore": counts[IGNORE] / total}


def _main() -> None:
    """CLI: generate the dataset and print the train-split class shares."""
    parser = argparse.ArgumentParser(description="Generate the synthetic-streets dataset (procedural street scenes).")
    parser.add_argument("root", type=Path)
    parser.add_argument("--n-train", type=int, default=96)
    parser.add_argument("--n-val", type=int, default=24)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    root = generate_synthetic_streets(a.root, a.n_train, a.n_val, a.height, a.width, a.seed)
    print(root)
    for name, share in _pixel_shares(root, "train").items():
        print(f"{name:>10s} {100 * share:6.2f} %")


if __name__ == "__main__":
    _main()
