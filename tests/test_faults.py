"""Faults of issue 21: truncated images of every kind, killed saves, full disks, two runs in one folder, huge images.

docs/reliability.md lists each case with the message the user sees and the test that keeps it so.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import run_cli

CUTS = (0.10, 0.50, 0.95)
KINDS = {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF"}


def hashes(root: Path) -> dict[str, str]:
    """SHA-256 of the user's files under `root` (our `.semseg.cache` files excluded)."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".cache")
    }


def image_dataset(root: Path, n_val: int = 2, extra_yaml: str = "") -> Path:
    """64x96 smooth images in every kind (.jpg, .png, .tif), 3-class id masks; returns the data YAML."""
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "masks" / split).mkdir(parents=True)
    stems = [(f"{k[1:]}_{int(c * 100):02d}", k) for k in KINDS for c in (*CUTS, 1.0)]
    for split, names in (("train", stems), ("val", [(f"v{i}", ".jpg") for i in range(n_val)])):
        for stem, suffix in names:
            img = cv2.GaussianBlur(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8), (9, 9), 3)
            cv2.imwrite(str(root / "images" / split / f"{stem}{suffix}"), img)
            cv2.imwrite(str(root / "masks" / split / f"{stem}.png"), rng.integers(0, 3, (64, 96), dtype=np.uint8))
    yaml = root / "data.yaml"
    yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: [a, b, c]\n{extra_yaml}")
    return yaml


def cut(path: Path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def cut_all(root: Path) -> dict[Path, str]:
    """Cut each kind's image at 10, 50 and 95 %; return {file: its format}."""
    out = {}
    for suffix, fmt in KINDS.items():
        for c in CUTS:
            f = root / "images" / "train" / f"{suffix[1:]}_{int(c * 100):02d}{suffix}"
            cut(f, c)
            out[f] = fmt
    return out


def _dataset_warnings(data: dict) -> list[str]:
    from ultralytics.cfg import get_cfg
    from ultralytics.utils import LOGGER

    from ultralytics_semseg.cfg import load_defaults
    from ultralytics_semseg.data.dataset import SemSegDataset

    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    LOGGER.addHandler(handler)
    try:
        hyp = get_cfg(overrides={**load_defaults(), "imgsz": 64})
        ds = SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=hyp)
    finally:
        LOGGER.removeHandler(handler)
    return [r.getMessage() for r in records], ds


# Row 1: truncated images ----------------------------------------------------------------------------------------------


def test_truncated_images_of_every_kind_are_named_once_and_skipped(tmp_path):
    """JPEG, PNG and TIFF cut at 10, 50 and 95 %: each named by the scan and by data.check, skipped, never rewritten.

    The 50 and 95 % JPEG cuts decode in OpenCV (a grey lower half, 'Premature end of JPEG file'); before issue 21
    they were used with their full masks.
    """
    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.data.check import check_dataset

    yaml = image_dataset(tmp_path)
    bad = cut_all(tmp_path)
    assert cv2.imread(str(next(f for f in bad if f.name == "jpg_95.jpg"))) is not None  # the decoder does not object
    before = hashes(tmp_path)

    warnings, ds = _dataset_warnings(check_semseg_dataset(yaml))
    skipped = [m.split("Skipping ", 1)[1] for m in warnings if "Skipping " in m]
    assert sorted(m.split(":")[0] for m in skipped) == sorted(map(str, bad)), skipped  # each named once
    for f, fmt in bad.items():
        assert any(m.startswith(f"{f}: truncated {fmt} image: the file ends") for m in skipped), (f, skipped)
    assert sorted(ds.im_files) == sorted(str(p) for p in (tmp_path / "images" / "train").iterdir() if p not in bad)

    (report,) = check_dataset(yaml, splits=("train",))
    assert sorted(report.errors) == sorted(skipped)  # data.check says what training skips, in the same words
    p = run_cli("-m", "ultralytics_semseg.data.check", str(yaml), cmd=sys.executable, check=False)
    assert p.returncode == 1 and all(f"ERROR {m}" in p.stdout for m in skipped), p.stdout
    assert "9 errors" in p.stdout
    assert hashes(tmp_path) == before


def test_old_cache_rescans_and_truncated_keep_flag(tmp_path, monkeypatch):
    """A cache of the scan before issue 21 (it passed a 95 % JPEG) is not trusted; `truncated: keep` keeps, warning."""
    from ultralytics.data.utils import get_hash, save_dataset_cache_file

    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.data.dataset import CACHE_VERSION
    from ultralytics_semseg.data.formats import label_format_for

    yaml = image_dataset(tmp_path)
    jpg95 = tmp_path / "images" / "train" / "jpg_95.jpg"
    cut(jpg95, 0.95)
    data = check_semseg_dataset(yaml)
    files = sorted(str(p) for p in (tmp_path / "images" / "train").iterdir())
    fmt = label_format_for(data)
    masks = fmt.label_files(files)
    old = {"hash": get_hash([*masks, *files]) + fmt.cache_key(), "msgs": []}
    old["labels"] = [
        {"im_file": f, "mask_file": m, "shape": (64, 96), "counts": np.ones(3)} for f, m in zip(files, masks)
    ]
    cache = tmp_path / "masks" / "train.semseg.cache"
    save_dataset_cache_file("", cache, old, "semseg-1.2")  # what the scan before issue 21 wrote
    assert CACHE_VERSION != "semseg-1.2"
    warnings, ds = _dataset_warnings(data)
    assert any(f"Skipping {jpg95}: truncated JPEG image" in m for m in warnings)
    assert str(jpg95) not in ds.im_files

    yaml.write_text(yaml.read_text() + "truncated: keep\n")
    before = hashes(tmp_path)
    # Ultralytics' reader (8.4.190, OpenCV 5) returns None for a cut JPEG, so even 'keep' skips it, saying so
    warnings, ds = _dataset_warnings(check_semseg_dataset(yaml))  # the flag is part of the cache key: rescanned
    assert any(f"Skipping {jpg95}: truncated/corrupt JPEG image: the header is valid but" in m for m in warnings)
    # a reader that decodes it (cv2.imread does: libjpeg's 'Premature end of JPEG file' and a grey lower half)
    monkeypatch.setattr("ultralytics.utils.imread", lambda f, flags=cv2.IMREAD_COLOR: cv2.imread(str(f), flags))
    (tmp_path / "masks" / "train.semseg.cache").unlink()
    warnings, ds = _dataset_warnings(check_semseg_dataset(yaml))
    kept = [m for m in warnings if str(jpg95) in m]
    assert len(kept) == 1 and "kept because the dataset YAML sets 'truncated: keep'" in kept[0], warnings
    assert f"WARNING ⚠️ {jpg95}: truncated JPEG image: the file ends inside its image data" in kept[0]
    assert str(jpg95) in ds.im_files
    assert hashes(tmp_path) == before

    yaml.write_text(yaml.read_text().replace("truncated: keep", "truncated: maybe"))
    with pytest.raises(ValueError, match="'truncated' must be 'skip' \\(the default\\) or 'keep'"):
        check_semseg_dataset(yaml)
