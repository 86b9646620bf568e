"""Datasets: the synthetic generator, pair verification, label mapping and aligned augmentation."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from ultralytics_semseg.data.augment import RandomHorizontalFlip, RandomResizeCrop, letterbox
from ultralytics_semseg.data.build import check_semseg_dataset
from ultralytics_semseg.data.dataset import SemSegDataset
from ultralytics_semseg.data.synthetic_streets import generate_synthetic_streets
from ultralytics_semseg.data.utils import build_label_lut


def _args(**kw):
    from ultralytics.cfg import get_cfg

    from ultralytics_semseg.cfg import load_defaults

    return get_cfg(overrides={**load_defaults(), "imgsz": 128, **kw})


def test_toy_is_deterministic_and_safe(tmp_path):
    a = generate_synthetic_streets(tmp_path / "a", n_train=3, n_val=1, seed=3)
    b = generate_synthetic_streets(tmp_path / "b", n_train=3, n_val=1, seed=3)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    mask = np.asarray(Image.open(a / "masks" / "train" / "toy_00000.png"))
    assert mask.shape == (128, 256) and 255 in mask and set(np.unique(mask)) - {255} <= set(range(8))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "my_notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_synthetic_streets(tmp_path / "c", n_train=1, n_val=1)
    assert (tmp_path / "c" / "my_notes.txt").read_text() == "mine"


def test_toy_dataset_samples(toy_data):
    ds = SemSegDataset(toy_data["train"], data=toy_data, imgsz=128, augment=True, hyp=_args(), batch_size=4)
    s = ds[0]
    assert s["img"].shape == (3, 64, 128) and s["img"].dtype == torch.uint8  # 1:2 crops for 1:2 images
    assert s["semseg_mask"].shape == (64, 128)
    val = SemSegDataset(toy_data["val"], data=toy_data, imgsz=128, augment=False, hyp=_args(), rect=True, batch_size=4)
    v = val[0]
    assert v["img"].shape == (3, 64, 128) and v["ori_mask"].shape == (128, 256)
    batch = SemSegDataset.collate_fn([val[0], val[1]])
    assert batch["img"].shape == (2, 3, 64, 128) and len(batch["ori_mask"]) == 2


def _write_pair(root, split, name, img, mask):
    (root / "images" / split).mkdir(parents=True, exist_ok=True)
    (root / "masks" / split).mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "images" / split / f"{name}.jpg"), img)
    if mask is not None:
        Image.fromarray(mask).save(root / "masks" / split / f"{name}.png")


def test_bad_pairs_are_named_and_skipped(tmp_path, caplog):
    img = np.full((32, 48, 3), 100, np.uint8)
    good = np.zeros((32, 48), np.uint8)
    _write_pair(tmp_path, "train", "good", img, good)
    _write_pair(tmp_path, "train", "badsize", img, np.zeros((30, 48), np.uint8))
    _write_pair(tmp_path, "train", "badid", img, np.full((32, 48), 7, np.uint8))
    _write_pair(tmp_path, "train", "nomask", img, None)
    _write_pair(tmp_path, "train", "rgb", img, np.zeros((32, 48, 3), np.uint8))
    (tmp_path / "images" / "train" / "corrupt.jpg").write_bytes(b"not an image")
    (tmp_path / "masks" / "train" / "corrupt.png").write_bytes(b"x")
    (tmp_path / "data.yaml").write_text(f"path: {tmp_path}\ntrain: images/train\nval: images/train\nnames: [a, b]\n")
    data = check_semseg_dataset(tmp_path / "data.yaml")
    with caplog.at_level(logging.WARNING, logger="ultralytics"):
        ds = SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=_args())
    assert [p.split("/")[-1] for p in ds.im_files] == ["good.jpg"]
    text = caplog.text
    assert "badsize.png: mask size 48x30 differs from image size 48x32" in text
    assert "badid.png: class ids [7]" in text
    assert "nomask.jpg: mask not found" in text
    assert "rgb.png: mask is a RGB colour image" in text
    assert "corrupt.jpg: not a readable image" in text
    assert (tmp_path / "masks" / "train.semseg.cache").is_file()


def test_no_usable_pairs_is_an_error(tmp_path):
    _write_pair(tmp_path, "train", "x", np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 9, np.uint8))
    (tmp_path / "data.yaml").write_text(f"path: {tmp_path}\ntrain: images/train\nval: images/train\nnames: [a]\n")
    data = check_semseg_dataset(tmp_path / "data.yaml")
    with pytest.raises(FileNotFoundError, match="No usable image/mask pairs"):
        SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=_args())


def test_bad_label_mapping_names_the_yaml(tmp_path):
    _write_pair(tmp_path, "train", "x", np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8))
    (tmp_path / "bad.yaml").write_text(
        f"path: {tmp_path}\ntrain: images/train\nval: images/train\nnames: [a]\nlabel_mapping: {{0: 5}}\n"
    )
    with pytest.raises(ValueError, match=r"bad.yaml: 'label_mapping' maps 0 to 5"):
        check_semseg_dataset(tmp_path / "bad.yaml")


def test_label_mapping_and_16bit_masks(tmp_path):
    raw = np.array([[7, 8, 0], [26, 7, 255]], np.uint16) * np.uint16(1)
    raw[1, 0] = 1000  # a 16-bit id
    _write_pair(tmp_path, "train", "x", np.zeros((2, 3, 3), np.uint8), raw)
    (tmp_path / "d.yaml").write_text(
        f"path: {tmp_path}\ntrain: images/train\nval: images/train\nnames: [road, car]\n"
        "label_mapping: {7: 0, 8: 255, 0: 255, 1000: 1}\n"
    )
    data = check_semseg_dataset(tmp_path / "d.yaml")
    val = SemSegDataset(data["train"], data=data, imgsz=32, augment=False, hyp=_args())
    assert val[0]["ori_mask"].tolist() == [[0, 255, 255], [1, 0, 255]]
    lut = build_label_lut(2, {7: 0})
    assert lut[[7, 1, 255, 3]].tolist() == [0, 1, 255, -1]


@pytest.mark.parametrize("axis", [0, 1])
def test_transforms_keep_image_and_mask_aligned(axis):
    """Image and mask both encode a pixel coordinate; after every transform they must still agree."""
    import random

    h, w = 60, 90
    coord = np.mgrid[0:h, 0:w][axis] * 250 // (h - 1 if axis == 0 else w - 1)  # 0..250, never 255
    img = np.repeat(coord[..., None], 3, -1).astype(np.uint8)
    for seed in range(30):
        random.seed(seed)
        labels = {"img": img.copy(), "semseg_mask": coord.astype(np.uint8)}
        labels = RandomHorizontalFlip(0.5)(RandomResizeCrop((48, 64), (0.5, 2.0))(labels))
        out_img, out_mask = labels["img"][..., 0].astype(int), labels["semseg_mask"].astype(int)
        valid = out_mask != 255
        assert valid.any() and (out_img[~valid] == 114).all()  # padding: grey image, ignore mask
        assert (
            np.abs(out_img[valid] - out_mask[valid]).max() <= 6
        )  # linear vs nearest resampling differ by < 1 source pixel
    boxed, ((gh, gw), (pw, ph)) = letterbox(img, (64, 128))
    mask_boxed, _ = letterbox(coord.astype(np.uint8), (64, 128), mask=True)
    assert boxed.shape[:2] == mask_boxed.shape == (64, 128)
    left = int(pw)
    assert (mask_boxed[:, :left] == 255).all() and (boxed[:, :left] == 114).all()
    inner = mask_boxed[:, left : left + round(w * gw)]
    assert np.abs(boxed[:, left : left + inner.shape[1], 0].astype(int) - inner).max() <= 6


def test_validation_batches_use_the_predictor_letterbox(toy_data):
    """Train-time validation (rect=False, Ultralytics' default) pads like `predict`, not to an imgsz square."""
    from ultralytics_semseg.models.train import SemSegTrainer

    overrides = {"model": "yolo11n-semseg.yaml", "data": "synthetic-streets.yaml", "imgsz": 256, "rect": False}
    trainer = SemSegTrainer(overrides=overrides)
    trainer.data = toy_data
    loader = trainer.get_dataloader(toy_data["val"], 8, rank=-1, mode="val")
    dataset, batch = loader.dataset, next(iter(loader))
    img = cv2.imread(dataset.im_files[0])
    expected = letterbox(img, 256, 32, auto=True)[0].shape[:2]  # what the predictor feeds the model
    assert tuple(batch["img"].shape[2:]) == expected == (128, 256)


def test_check_lists_images_as_training_does(tmp_path):
    """`data.check` lists a split through Ultralytics' own listing: recursive folders and `.txt` lists; named errors."""
    from ultralytics_semseg.data.check import list_images

    (tmp_path / "images" / "val" / "city").mkdir(parents=True)
    for name in ("city/b.jpg", "a.png", "notes.txt"):
        (tmp_path / "images" / "val" / name).write_bytes(b"x")
    listed = list_images(str(tmp_path / "images" / "val"))
    assert [Path(f).relative_to(tmp_path / "images" / "val").as_posix() for f in listed] == ["a.png", "city/b.jpg"]
    (tmp_path / "val.txt").write_text("./images/val/a.png\n")
    assert list_images(str(tmp_path / "val.txt")) == [str(tmp_path / "images" / "val" / "a.png")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images found in"):
        list_images(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="nope does not exist"):
        list_images(str(tmp_path / "nope"))
