"""Training pipeline of SemSegDataset: image and mask stay aligned through every transform (mosaic, random resize,
crop with a class-share cap, flip, photometric jitter), padding is 255 in masks, and cache='ram' holds uint8 masks.

Alignment is checked with images and masks that both encode their own pixel coordinate.
"""

from __future__ import annotations

import logging
import random

import cv2
import numpy as np
import pytest
from PIL import Image

from ultralytics_semseg.data.augment import RandomContrast, RandomResizeCrop, SemSegMosaic, mosaic4
from ultralytics_semseg.data.build import check_semseg_dataset
from ultralytics_semseg.data.dataset import SemSegDataset

H, W = 32, 64


def _args(**kw):
    from ultralytics.cfg import get_cfg

    from ultralytics_semseg.cfg import load_defaults

    no_colour = {"hsv_h": 0.0, "hsv_s": 0.0, "hsv_v": 0.0, "contrast": 0.0}
    return get_cfg(overrides={**load_defaults(), "imgsz": W, **no_colour, **kw})


def _coord(axis: int) -> np.ndarray:
    """0..250 along `axis` (never 255): a pixel's value says where it came from."""
    n = (H, W)[axis]
    return (np.mgrid[0:H, 0:W][axis] * 250 // (n - 1)).astype(np.uint8)


@pytest.fixture(scope="module", params=[0, 1], ids=["rows", "cols"])
def coord_data(request, tmp_path_factory):
    """A dataset whose images and masks (251 classes) both hold the row (or column) code of each pixel."""
    axis = request.param
    root = tmp_path_factory.mktemp(f"coord{axis}")
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "masks" / split).mkdir(parents=True)
        for i in range(6):
            code = _coord(axis)
            cv2.imwrite(str(root / "images" / split / f"{i}.png"), np.repeat(code[..., None], 3, -1))
            Image.fromarray(code).save(root / "masks" / split / f"{i}.png")
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: {list(range(251))}\n")
    return check_semseg_dataset(root / "data.yaml"), axis


def _check_aligned(img: np.ndarray, mask: np.ndarray, step: float) -> float:
    """Image code vs mask code away from discontinuities (padding, seams, crop border); return the checked share.

    Bilinear (image) and nearest (mask) resampling may disagree by up to one output pixel, so a pixel may differ by
    the code range of its 3x3 neighbourhood; a shift of two pixels or more fails.
    """
    mask = mask.astype(int)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(mask, 1, constant_values=255), (3, 3))
    spread = windows.max((2, 3)) - windows.min((2, 3))
    smooth = (spread <= 6 * step) & ~(windows == 255).any((2, 3))
    diff = np.abs(img[..., 0].astype(int) - mask)
    bad = smooth & (diff > np.maximum(spread, 1.5 * step))
    assert smooth.any() and not bad.any(), (
        f"{bad.sum()} pixels misaligned, e.g. image {img[bad][:3, 0]} vs mask {mask[bad][:3]}"
    )
    return smooth.mean()


@pytest.mark.parametrize("mosaic", [0.0, 1.0])
def test_training_samples_stay_aligned(coord_data, mosaic):
    data, axis = coord_data
    step = 250 / ((H, W)[axis] - 1)
    hyp = _args(mosaic=mosaic, fliplr=0.5, scale=0.5, cat_max_ratio=0.75)
    ds = SemSegDataset(data["train"], data=data, imgsz=W, augment=True, hyp=hyp, batch_size=2)
    assert [type(t).__name__ for t in ds.transforms.transforms][:2] == ["SemSegMosaic", "RandomResizeCrop"]
    seams, checked = 0, []
    for seed in range(24):
        random.seed(seed)
        s = ds[seed % len(ds)]
        img, mask = s["img"].numpy().transpose(1, 2, 0), s["semseg_mask"].numpy()
        assert img.shape[:2] == mask.shape == (H, W) and mask.dtype == np.uint8
        assert (img[mask == 255] == 114).all() or mosaic  # plain padding: grey image where the mask is ignore
        checked.append(_check_aligned(img, mask, step))
        m = np.where(mask == 255, np.nan, mask.astype(float))
        seams += int((np.abs(np.diff(m, axis=axis)) > 3 * step).any())  # a code jump between two tiles
    assert np.mean(checked) > 0.4
    assert (seams > 0) == bool(mosaic)


def test_validation_letterbox_aligned_with_original_mask(coord_data):
    data, axis = coord_data
    ds = SemSegDataset(data["val"], data=data, imgsz=W * 2, augment=False, hyp=_args(), rect=True, batch_size=2)
    s = ds[0]
    assert tuple(s["ori_mask"].shape) == (H, W) and (s["ori_mask"].numpy() == _coord(axis)).all()
    step = 250 / ((H, W)[axis] - 1) / 2  # the letterbox doubles the size
    _check_aligned(s["img"].numpy().transpose(1, 2, 0), s["semseg_mask"].numpy(), step * 2)


def test_mosaic4_places_tiles_around_the_centre():
    tiles = [(np.full((4, 6, 3), v, np.uint8), np.full((4, 6), v, np.uint8)) for v in (1, 2, 3, 4)]
    for seed in range(10):
        random.seed(seed)
        img, mask = mosaic4(tiles)
        assert img.shape == (8, 12, 3) and (img[..., 0][mask != 255] == mask[mask != 255]).all()
        assert (img[mask == 255] == 114).all()
        rows, cols = np.nonzero(mask == 4)  # bottom-right tile starts at the centre
        yc, xc = rows.min(), cols.min()
        assert mask[yc - 1, xc - 1] == 1 and mask[yc - 1, xc] == 2 and mask[yc, xc - 1] == 3


def test_cat_max_ratio_redraws_dominated_crops():
    mask = np.zeros((50, 1000), np.uint8)
    mask[:, 900:] = 1  # class 1 is only in the right 10 %
    img = np.zeros((50, 1000, 3), np.uint8)

    def mixed_share(cap):
        random.seed(0)
        t = RandomResizeCrop((50, 200), (1.0, 1.0), cat_max_ratio=cap)
        crops = [t({"img": img, "semseg_mask": mask})["semseg_mask"] for _ in range(300)]
        return np.mean([(c == 1).mean() > 0 and (c == 0).mean() < 0.75 for c in crops])

    assert mixed_share(None) < 0.12 and mixed_share(0.75) > 0.3
    with pytest.raises(ValueError, match="cat_max_ratio"):
        RandomResizeCrop((8, 8), cat_max_ratio=-1)


def test_contrast_jitter_changes_image_only():
    random.seed(1)
    img = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (4, 1))[..., None].repeat(3, -1)
    mask = np.arange(4 * 25, dtype=np.uint8).reshape(4, 25) % 7
    out = RandomContrast(0.5, p=1.0)({"img": img.copy(), "semseg_mask": mask.copy()})
    assert out["img"].shape == img.shape and out["img"].std() != img.std()
    assert (out["semseg_mask"] == mask).all()
    assert RandomContrast(0.0)({"img": img})["img"] is img


def test_ram_cache_holds_uint8_masks_and_matches_disk(coord_data, caplog):
    data, _ = coord_data
    with caplog.at_level(logging.INFO, logger="ultralytics"):
        cached = SemSegDataset(data["train"], data=data, imgsz=W, augment=True, hyp=_args(), cache="ram", batch_size=2)
    assert "cache='ram' needs about" in caplog.text and "uint8 masks" in caplog.text
    assert cached.mask_cache is not None and cached.mask_cache[0].dtype == np.uint8
    disk = SemSegDataset(data["train"], data=data, imgsz=W, augment=True, hyp=_args(), batch_size=2)
    assert disk.mask_cache is None
    for i in range(3):
        random.seed(i)
        a = cached[i]
        random.seed(i)
        b = disk[i]
        assert (a["img"] == b["img"]).all() and (a["semseg_mask"] == b["semseg_mask"]).all()


def test_close_mosaic_turns_it_off(coord_data):
    data, _ = coord_data
    hyp = _args(mosaic=1.0)
    ds = SemSegDataset(data["train"], data=data, imgsz=W, augment=True, hyp=hyp, batch_size=2)
    ds.close_mosaic(_args(mosaic=1.0))
    mosaic = next(t for t in ds.transforms.transforms if isinstance(t, SemSegMosaic))
    assert mosaic.p == 0.0
