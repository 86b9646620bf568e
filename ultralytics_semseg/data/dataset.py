"""SemSegDataset: images with single-channel PNG class masks at mirrored paths under `masks_dir`."""

from __future__ import annotations

from multiprocessing.pool import ThreadPool
from pathlib import Path

import cv2
import numpy as np
import torch
from ultralytics.data.augment import Compose, RandomHSV
from ultralytics.data.base import BaseDataset
from ultralytics.data.utils import get_hash, load_dataset_cache_file, save_dataset_cache_file
from ultralytics.utils import LOGGER, NUM_THREADS, TQDM, imread

from ultralytics_semseg.data.augment import (
    LetterBoxVal,
    RandomHorizontalFlip,
    RandomResizeCrop,
    SemSegFormat,
    train_crop_shape,
)
from ultralytics_semseg.data.utils import IGNORE, apply_lut, build_label_lut, img2mask_paths, read_mask, verify_pair

CACHE_VERSION = "semseg-1.0"


class SemSegDataset(BaseDataset):
    """Semantic segmentation dataset: `images/<split>/x.jpg` with class-id masks at `<masks_dir>/<split>/x.png`.

    Pairs are verified once in parallel and cached at `<masks_dir>/<split>.semseg.cache` (a name of its own, so the
    cache of Ultralytics' `semantic` task beside it is never overwritten). A bad pair is skipped with a warning that
    names the file and the problem. Masks go through `label_mapping` (raw id -> train id); 255 is ignore.

    Training samples are randomly resized and cropped to `crop_shape`, flipped and colour-jittered; validation samples
    are letterboxed like `predict` does and keep the mask at the original resolution, so metrics are computed against
    the real labels.

    Args:
        img_path (str | list[str]): Image folder(s), file list(s) or glob(s).
        data (dict): Dataset dict from `check_semseg_dataset`.
        **kwargs (Any): `BaseDataset` arguments (imgsz, augment, hyp, rect, batch_size, stride, cache, ...).

    Examples:
        >>> from ultralytics_semseg.data.build import check_semseg_dataset
        >>> data = check_semseg_dataset("synthetic-streets.yaml")
        >>> ds = SemSegDataset(data["val"], data=data, imgsz=256, augment=False)
        >>> ds[0]["semseg_mask"].shape
        torch.Size([128, 256])
    """

    def __init__(self, *args, data: dict, **kwargs):
        self.data = data
        self.nc = len(data["names"])
        self.lut = build_label_lut(self.nc, data.get("label_mapping"), data.get("ignore_label", IGNORE))
        kwargs.setdefault("pad", 0.0)  # rect batches: the predictor's minimal letterbox, no extra stride of padding
        super().__init__(*args, **kwargs)

    def get_labels(self) -> list[dict]:
        """Verify image/mask pairs (cached by content hash) and return the usable ones."""
        self.mask_files = img2mask_paths(self.im_files, self.data.get("masks_dir", "masks"))
        cache_path = Path(self.mask_files[0]).parent.with_suffix(".semseg.cache")
        mapping = {int(k): v for k, v in (self.data.get("label_mapping") or {}).items()}
        key = get_hash([*self.mask_files, *self.im_files]) + str(sorted(mapping.items())) + str(self.nc)
        try:
            cache = load_dataset_cache_file(cache_path)
            assert cache["version"] == CACHE_VERSION and cache["hash"] == key
            labels, msgs = cache["labels"], cache["msgs"]
            LOGGER.info(f"{self.prefix}Scanning {cache_path}... {len(labels)} pairs, {len(msgs)} skipped (cached)")
        except (FileNotFoundError, AssertionError, AttributeError, KeyError, ModuleNotFoundError, ValueError):
            labels, msgs = self._verify(cache_path, key)
        for m in msgs:
            LOGGER.warning(f"{self.prefix}Skipping {m}")
        if not labels:
            raise FileNotFoundError(f"{self.prefix}No usable image/mask pairs in {self.img_path}, see warnings above.")
        self.im_files = [x["im_file"] for x in labels]
        self.mask_files = [x["mask_file"] for x in labels]
        return labels

    def _verify(self, cache_path: Path, key: str) -> tuple[list[dict], list[str]]:
        labels, msgs = [], []
        jobs = ((f, m, self.lut, self.nc) for f, m in zip(self.im_files, self.mask_files))
        with ThreadPool(NUM_THREADS) as pool:
            for label, msg in TQDM(
                pool.imap(verify_pair, jobs), desc=f"{self.prefix}Scanning", total=len(self.im_files)
            ):
                labels.append(label) if label else msgs.append(msg)
        save_dataset_cache_file(self.prefix, cache_path, {"hash": key, "labels": labels, "msgs": msgs}, CACHE_VERSION)
        return labels, msgs

    def build_transforms(self, hyp=None) -> Compose:
        """Random resize + crop, flip and HSV jitter for training; the predictor's letterbox for validation."""
        if self.augment:
            crop = train_crop_shape(np.array([x["shape"] for x in self.labels]), self.imgsz, self.stride)
            ratio = (max(1 - hyp.scale, 0.1), 1 + hyp.scale)
            transforms = [
                RandomResizeCrop(crop, ratio),
                RandomHSV(hgain=hyp.hsv_h, sgain=hyp.hsv_s, vgain=hyp.hsv_v),
                RandomHorizontalFlip(hyp.fliplr),
            ]
        else:
            transforms = [LetterBoxVal(self.imgsz, self.stride)]
        return Compose([*transforms, SemSegFormat()])

    def get_image_and_label(self, index: int) -> dict:
        """Image (resized for training, original for validation) and its mapped mask."""
        label = {"im_file": self.labels[index]["im_file"], "mask_file": self.labels[index]["mask_file"]}
        mask = apply_lut(read_mask(label["mask_file"]), self.lut, self.nc)
        if self.augment:
            img, label["ori_shape"], hw = self.load_image(index)
            if mask.shape != hw:
                mask = cv2.resize(mask, hw[::-1], interpolation=cv2.INTER_NEAREST)
        else:
            img = imread(label["im_file"], flags=self.cv2_flag)
            if img.ndim == 2:
                img = img[..., None]
            label["ori_shape"] = img.shape[:2]
            if self.rect:
                label["rect_shape"] = self.batch_shapes[self.batch[index]]
        label["img"], label["semseg_mask"] = img, mask
        return label

    @staticmethod
    def collate_fn(batch: list[dict]) -> dict:
        """Stack images and (letterboxed or cropped) masks; original-size masks stay a list."""
        out = {k: [b[k] for b in batch] for k in batch[0]}
        out["img"] = torch.stack(out["img"], 0)
        out["semseg_mask"] = torch.stack(out["semseg_mask"], 0)
        return out
