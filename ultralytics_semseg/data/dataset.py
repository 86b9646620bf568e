"""SemSegDataset: images with class maps from id masks, colour masks or YOLO polygons (see `formats.py`)."""

from __future__ import annotations

import os
import random
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
from torch.utils.data import default_collate
from ultralytics.data.augment import Compose, RandomHSV
from ultralytics.data.base import BaseDataset
from ultralytics.data.utils import get_hash, load_dataset_cache_file, save_dataset_cache_file
from ultralytics.utils import LOCAL_RANK, LOGGER, NUM_THREADS, TQDM, imread

from ultralytics_semseg.data.augment import (
    LetterBoxVal,
    RandomContrast,
    RandomHorizontalFlip,
    RandomResizeCrop,
    SemSegFormat,
    SemSegMosaic,
    train_crop_shape,
)
from ultralytics_semseg.data.formats import kept_truncated, label_format_for, scan_pairs
from ultralytics_semseg.data.sampler import seeded_rng
from ultralytics_semseg.data.utils import IMAGES_DIR
from ultralytics_semseg.utils.memory import require_image_memory

CACHE_VERSION = "semseg-1.3"  # 1.2: images are decoded in full by the scan; 1.3: truncated files are caught
GB = 1 << 30


class SemSegDataset(BaseDataset):
    """Semantic segmentation dataset: `images/<split>/x.jpg` with a class map per image.

    Class maps come from single-channel id masks at `<masks_dir>/<split>/x.png` (through `label_mapping`), RGB colour
    masks at the same place (through the YAML's `colors:` table) or YOLO polygon labels at `labels/<split>/x.txt`;
    `data['label_format']` says which (see `ultralytics_semseg.data.formats`). 255 is ignore.

    Pairs are verified once in parallel and cached at `<masks_dir>/<split>.semseg.cache` (a name of its own, so the
    cache of Ultralytics' `semantic` task beside it is never overwritten). A bad pair is skipped with a warning that
    names the file and the problem; dataset-level findings (unknown colours, images without polygon labels) are
    reported once.

    Training samples are optionally mosaicked, randomly resized and cropped to `crop_shape` (optionally capping the
    share of one class per crop with `cat_max_ratio`), colour-jittered and flipped; validation samples are letterboxed
    like `predict` does and keep the mask at the original resolution, so metrics are computed against the real labels.
    `cache='ram'` holds the decoded images and uint8 class maps of the training set in memory.

    Args:
        img_path (str | list[str]): Image folder(s), file list(s) or glob(s).
        data (dict): Dataset dict from `check_semseg_dataset`.
        **kwargs (Any): `BaseDataset` arguments (imgsz, augment, hyp, rect, batch_size, stride, cache, ...).

    Examples:
        >>> from ultralytics_semseg.data.build import check_semseg_dataset
        >>> data = check_semseg_dataset("synthetic-streets.yaml")
        >>> import contextlib, io
        >>> with contextlib.redirect_stdout(io.StringIO()):  # the progress bar of the first scan is not part of it
        ...     ds = SemSegDataset(data["val"], data=data, imgsz=256, augment=False)
        >>> sample = ds[0]
        >>> sample["img"].shape, sample["ori_mask"].shape  # letterboxed to imgsz; the mask at the original size
        (torch.Size([3, 256, 256]), torch.Size([128, 256]))
    """

    def __init__(self, *args, data: dict, **kwargs):
        """Set up the label format of `data`, then let `BaseDataset` list images and verify pairs."""
        self.data = data
        self.nc = len(data["names"])
        self.label_format = label_format_for(data)
        self.lut = self.label_format.lut
        self.mask_cache = None  # uint8 class maps at the loaded image size, filled by cache_images() with cache='ram'
        kwargs.setdefault("pad", 0.0)  # rect batches: the predictor's minimal letterbox, no extra stride of padding
        super().__init__(*args, **kwargs)

    def get_img_files(self, img_path: str | list[str]) -> list[str]:
        """Ultralytics' image listing, with an error that names the split, the dataset YAML and the fix."""
        try:
            return super().get_img_files(img_path)
        except FileNotFoundError:
            split = self.prefix.strip(" :") or "image"
            yaml = self.data.get("yaml_file", "the dataset YAML")
            raise FileNotFoundError(
                f"{self.prefix}no images found in {img_path}, the '{split}' split of {yaml}. Add images (with their "
                f"masks) there, or point '{split}:' in {yaml} to a folder of images."
            ) from None

    def get_labels(self) -> list[dict]:
        """Verify image/label pairs (cached by content hash), report problems and return the usable pairs."""
        fmt = self.label_format
        self.mask_files = fmt.label_files(self.im_files)
        cache_path = self._cache_path()
        key = get_hash([*self.mask_files, *self.im_files]) + fmt.cache_key()
        try:
            cache = load_dataset_cache_file(cache_path)
            assert cache["version"] == CACHE_VERSION and cache["hash"] == key
            labels, msgs = cache["labels"], cache["msgs"]
            LOGGER.info(f"{self.prefix}Scanning {cache_path}... {len(labels)} pairs, {len(msgs)} skipped (cached)")
        except (FileNotFoundError, AssertionError, AttributeError, KeyError, ModuleNotFoundError, ValueError):
            labels, msgs = scan_pairs(self.im_files, self.mask_files, fmt, desc=f"{self.prefix}Scanning")
            cache = {"hash": key, "labels": labels, "msgs": msgs}
            save_dataset_cache_file(self.prefix, cache_path, cache, CACHE_VERSION)
        for m in msgs:
            LOGGER.warning(f"{self.prefix}Skipping {m}")
        for m in kept_truncated(labels):
            LOGGER.warning(f"{self.prefix}{m}")
        if not labels:
            raise FileNotFoundError(
                f"{self.prefix}No usable image/mask pairs in {self.img_path}: every image was skipped, see the "
                f"warnings above for why. Fix those files, or the label settings (masks_dir, label_format) in "
                f"{self.data.get('yaml_file', 'the dataset YAML')}."
            )
        try:
            warnings = fmt.summarize(labels)
        except FileNotFoundError as e:
            raise FileNotFoundError(f"{self.prefix}{self.img_path}: {e}") from None
        for note in fmt.describe():
            LOGGER.info(f"{self.prefix}{note}")
        for warning in warnings:
            LOGGER.warning(f"{self.prefix}{warning}")
        if not self.augment:  # scored at the original resolution: refuse what would not fit in memory, up front
            for x in labels:
                require_image_memory(x["im_file"], x["shape"], self.nc, "validation")
        self.im_files = [x["im_file"] for x in labels]
        self.mask_files = [x["mask_file"] for x in labels]
        return labels

    def _cache_path(self) -> Path:
        """`<labels folder>/<split>.semseg.cache`, beside the split's label folder (mirrors an image folder path)."""
        p = os.fspath(self.img_path) if isinstance(self.img_path, (str, Path)) else ""
        label_dir = Path(self.mask_files[0]).parent
        if IMAGES_DIR in p + os.sep and os.path.isdir(p):
            split_dir = Path(self.label_format.label_files([os.path.join(p, "x.jpg")])[0]).parent
            if split_dir.is_dir():
                label_dir = split_dir
        return label_dir.with_suffix(".semseg.cache")

    def load_mask(self, index: int, shape: tuple[int, int]) -> np.ndarray:
        """uint8 class map of sample `index` at `shape` (h, w), from the RAM cache when it holds one of that size."""
        if self.mask_cache is not None:
            mask = self.mask_cache[index]
            if mask.shape == tuple(shape):
                return mask
        return self.label_format.load(self.labels[index], shape)

    def load_train_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Image resized for training (long side `imgsz`) and its class map at the same size."""
        img, _, hw = self.load_image(index)
        return img, self.load_mask(index, hw)

    def check_cache_ram(self, safety_margin: float = 1.0) -> bool:
        """Estimate the RAM for images and uint8 masks from up to 30 images, print it, and check it is available."""
        n = min(self.ni, 30)
        shapes = [self.load_image(random.randrange(self.ni))[0].shape for _ in range(n)]
        img_b = sum(int(np.prod(s)) for s in shapes) * self.ni / n
        mask_b = sum(s[0] * s[1] for s in shapes) * self.ni / n
        need = (img_b + mask_b) * (1 + safety_margin)
        mem = __import__("psutil").virtual_memory()
        LOGGER.info(
            f"{self.prefix}cache='ram' needs about {(img_b + mask_b) / GB:.2f}GB for {self.ni} samples "
            f"(images {img_b / GB:.2f}GB + uint8 masks {mask_b / GB:.2f}GB); {mem.available / GB:.1f}GB available"
        )
        if need > mem.available:
            self.cache = None
            LOGGER.warning(
                f"{self.prefix}{need / GB:.1f}GB RAM required with {int(safety_margin * 100)}% safety margin but only "
                f"{mem.available / GB:.1f}/{mem.total / GB:.1f}GB available, not caching images and masks"
            )
            return False
        return True

    def cache_images(self) -> None:
        """Ultralytics' image caching, then (cache='ram') the decoded uint8 class maps at the cached images' size."""
        super().cache_images()
        if self.cache != "ram":
            return
        b, masks = 0, [None] * self.ni
        with ThreadPool(NUM_THREADS) as pool:
            results = pool.imap(lambda i: self.label_format.load(self.labels[i], self.im_hw[i]), range(self.ni))
            pbar = TQDM(enumerate(results), total=self.ni, disable=LOCAL_RANK > 0)
            for i, mask in pbar:
                masks[i] = mask
                b += mask.nbytes
                pbar.desc = f"{self.prefix}Caching masks ({b / GB:.2f}GB RAM)"
            pbar.close()
        self.mask_cache = self._ImageCache(masks)

    def build_transforms(self, hyp=None) -> Compose:
        """Training: mosaic (opt-in), random resize + crop, photometric jitter, flip. Validation: the letterbox."""
        if self.augment:
            crop = train_crop_shape(np.array([x["shape"] for x in self.labels]), self.imgsz, self.stride)
            ratio = (max(1 - hyp.scale, 0.1), 1 + hyp.scale)
            transforms = [
                SemSegMosaic(self, p=hyp.mosaic),
                RandomResizeCrop(crop, ratio, cat_max_ratio=getattr(hyp, "cat_max_ratio", None)),
                RandomHSV(hgain=hyp.hsv_h, sgain=hyp.hsv_s, vgain=hyp.hsv_v),
                RandomContrast(getattr(hyp, "contrast", 0.0) or 0.0),
                RandomHorizontalFlip(hyp.fliplr),
            ]
        else:
            transforms = [LetterBoxVal(self.imgsz, self.stride)]
        return Compose([*transforms, SemSegFormat()])

    def close_mosaic(self, hyp) -> None:
        """Turn mosaic off (the trainer calls this for the last `close_mosaic` epochs)."""
        hyp.mosaic = 0.0
        self.transforms = self.build_transforms(hyp)

    def __getitem__(self, index: int | tuple[int, int]) -> dict:
        """Sample `index`; an `(index, seed)` pair (from `SeededEpochSampler`) is augmented with RNGs seeded by `seed`.

        So a training sample's crop, flip and colour jitter depend on its seed alone, not on which process loads it
        or what it loaded before: runs resume exactly and give the same batches with any number of workers.
        """
        if isinstance(index, tuple):
            index, seed = index
            with seeded_rng(seed):
                return super().__getitem__(index)
        return super().__getitem__(index)

    def get_image_and_label(self, index: int) -> dict:
        """Image (resized for training, original for validation) and its class map at the image's size."""
        label = {"im_file": self.labels[index]["im_file"], "mask_file": self.labels[index]["mask_file"]}
        if self.augment:
            img, label["ori_shape"], hw = self.load_image(index)
            mask = self.load_mask(index, hw)
        else:
            img = imread(label["im_file"], flags=self.cv2_flag)
            if img is None:  # it decoded when the pairs were scanned (and cached), so it changed since
                raise FileNotFoundError(
                    f"{label['im_file']}: image cannot be decoded any more (truncated/corrupt since the pair scan); "
                    f"restore the file, or delete {self._cache_path()} to rescan and skip it"
                )
            if img.ndim == 2:
                img = img[..., None]
            label["ori_shape"] = img.shape[:2]
            mask = self.label_format.load(self.labels[index], img.shape[:2])
            if self.rect:
                label["rect_shape"] = self.batch_shapes[self.batch[index]]
        label["img"], label["semseg_mask"] = img, mask
        return label

    @staticmethod
    def collate_fn(batch: list[dict]) -> dict:
        """Stack images and (letterboxed or cropped) masks; original-size masks stay a list.

        `default_collate` stacks straight into shared memory inside loader workers, saving a copy per batch.
        """
        out = {k: [b[k] for b in batch] for k in batch[0]}
        out["img"] = default_collate(out["img"])
        out["semseg_mask"] = default_collate(out["semseg_mask"])
        return out
