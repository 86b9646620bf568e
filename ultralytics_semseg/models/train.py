"""SemSegTrainer: Ultralytics' training loop (AMP, EMA, DDP, resume) with semseg data, model and loss."""

from __future__ import annotations

import math
import os
import random
from copy import copy

import numpy as np
import torch
from ultralytics.data.build import build_dataloader
from ultralytics.engine.trainer import BaseTrainer
from ultralytics.utils import DEFAULT_CFG, LOGGER, RANK
from ultralytics.utils.torch_utils import torch_distributed_zero_first, unwrap_model

from ultralytics_semseg.cfg import load_defaults
from ultralytics_semseg.compat import trainer_sets_class_weights
from ultralytics_semseg.data.build import build_semseg_dataset, check_semseg_dataset
from ultralytics_semseg.models.val import SemSegValidator
from ultralytics_semseg.nn.model import SemSegModel
from ultralytics_semseg.utils.plotting import plot_class_distribution, plot_pairs


class SemSegTrainer(BaseTrainer):
    """Trainer of the semseg task.

    Task defaults from `ultralytics_semseg/cfg/default.yaml` (AdamW, cosine lr, no mosaic, random resize + crop) apply
    first; anything the user passes overrides them. Checkpoints record `task: semseg`.

    Examples:
        >>> from ultralytics_semseg.models.train import SemSegTrainer
        >>> trainer = SemSegTrainer(overrides={"model": "yolo11n-semseg.yaml", "data": "synthetic-streets.yaml"})
        >>> trainer.train()
    """

    def __init__(self, cfg=DEFAULT_CFG, overrides: dict | None = None, _callbacks=None):
        overrides = {**load_defaults(), **(overrides or {}), "task": "semseg"}
        super().__init__(cfg, overrides, _callbacks)
        if self.device.type == "cpu":
            # Ultralytics keeps one core free for loader workers, but CPU training loads in the main process
            # (workers=0), so the model may use every core: ~1.7x faster epochs on 2 cores.
            torch.set_num_threads(os.cpu_count() or 1)

    def get_dataset(self) -> dict:
        """Check the dataset YAML; packaged names resolve and the synthetic dataset generates on first use."""
        try:
            return check_semseg_dataset(self.args.data, split=self.args.split)
        except Exception as e:
            raise RuntimeError(f"Dataset '{self.args.data}' error ❌ {e}") from e

    def get_model(self, cfg=None, weights=None, verbose: bool = True) -> SemSegModel:
        """Build the model for this dataset's classes and transfer matching tensors from `weights` (any YOLO model)."""
        model = SemSegModel(cfg or self.args.model, ch=self.data["channels"], nc=self.data["nc"], verbose=verbose)
        if weights:
            model.load(weights, verbose=verbose)
        return model

    def set_model_attributes(self) -> None:
        self.model.nc = self.data["nc"]
        self.model.names = self.data["names"]
        self.model.args = self.args

    def build_dataset(self, img_path: str, mode: str = "train", batch: int | None = None):
        gs = max(int(unwrap_model(self.model).stride.max()), 32) if isinstance(self.model, torch.nn.Module) else 32
        # validation always with the predictor's letterbox, as `yolo semseg val` does: with Ultralytics' rect=False
        # default it padded to an imgsz square and scored the same best.pt 1.7 mIoU lower
        return build_semseg_dataset(self.args, img_path, batch, self.data, mode=mode, stride=gs, rect=mode == "val")

    def get_dataloader(self, dataset_path: str, batch_size: int = 16, rank: int = 0, mode: str = "train"):
        assert mode in {"train", "val"}, f"mode must be 'train' or 'val', not {mode}."
        with torch_distributed_zero_first(rank):  # verify and cache pairs once under DDP
            dataset = self.build_dataset(dataset_path, mode, batch_size)
        train = mode == "train"
        # drop_last avoids a final 1-image batch, which BatchNorm cannot train on
        return build_dataloader(dataset, batch_size, self.args.workers, shuffle=train, rank=rank, drop_last=train)

    def preprocess_batch(self, batch: dict) -> dict:
        batch["img"] = batch["img"].to(self.device, non_blocking=self.device.type == "cuda").float() / 255
        batch["semseg_mask"] = batch["semseg_mask"].to(self.device, non_blocking=self.device.type == "cuda")
        if self.args.multi_scale:
            batch["img"], batch["semseg_mask"] = self._random_rescale(batch["img"], batch["semseg_mask"])
        return batch

    def _random_rescale(self, img: torch.Tensor, mask: torch.Tensor):
        """Multi-scale training: resize the batch by a random factor, rounded to the stride."""
        s = random.uniform(1 - self.args.multi_scale, 1 + self.args.multi_scale)
        size = [max(self.stride, math.ceil(x * s / self.stride) * self.stride) for x in img.shape[2:]]
        img = torch.nn.functional.interpolate(img, size=size, mode="bilinear", align_corners=False)
        mask = torch.nn.functional.interpolate(mask[:, None].float(), size=size, mode="nearest")[:, 0]
        return img, mask.to(torch.uint8)

    def get_validator(self) -> SemSegValidator:
        return SemSegValidator(
            self.test_loader, save_dir=self.save_dir, args=copy(self.args), _callbacks=self.callbacks
        )

    def progress_string(self) -> str:
        return ("\n" + "%11s" * (4 + len(self.loss_names))) % ("Epoch", "GPU_mem", *self.loss_names, "Images", "Size")

    def plot_training_samples(self, batch: dict, ni: int) -> None:
        imgs = batch["img"][:8].mul(255).byte().permute(0, 2, 3, 1).flip(-1).cpu().numpy()
        masks = batch["semseg_mask"][:8].cpu().numpy()
        plot_pairs(list(imgs), masks, None, self.data["names"], self.save_dir / f"train_batch{ni}.jpg")

    def train_pixel_counts(self) -> np.ndarray:
        """Pixels per class in the train split, from the label cache (no mask is read again)."""
        return np.sum([x["counts"] for x in self.train_loader.dataset.labels], 0).astype(np.float64)

    def set_class_weights(self) -> None:
        """ENet class weights `(1 / ln(1.02 + share)) ** cls_pw` from the train split's pixel counts, mean 1.

        Computed from whatever dataset is being trained (never looked up by its name); classes without train pixels
        get the mean weight. `cls_pw=0` trains with plain cross-entropy. Called by Ultralytics before the EMA copy
        is made; `_setup_train` calls it on releases without that hook.
        """
        if not self.args.cls_pw:
            return
        counts = self.train_pixel_counts()
        if not counts.any():
            return
        present = counts > 0
        weights = (1 / np.log(1.02 + counts / counts.sum())) ** self.args.cls_pw
        weights = np.where(present, weights, weights[present].mean())
        weights = torch.from_numpy(weights / weights.mean()).float().to(self.device)
        ema = getattr(getattr(self, "ema", None), "ema", None)  # exists already where _setup_train calls this
        for model in (unwrap_model(self.model), ema):
            if model is None:
                continue
            model.class_weights = weights
            model.criterion = None  # rebuilt with the weights on the next loss call
        LOGGER.info(f"Class weights (cls_pw={self.args.cls_pw}): {[round(float(w), 2) for w in weights]}")

    def _setup_train(self) -> None:
        super()._setup_train()
        if not trainer_sets_class_weights():
            self.set_class_weights()

    def plot_training_labels(self) -> None:
        counts = self.train_pixel_counts()
        plot_class_distribution(counts, self.data["names"], self.save_dir / "labels.jpg", on_plot=self.on_plot)
        if RANK in {-1, 0}:
            share = counts / max(counts.sum(), 1)
            LOGGER.info(
                "Class pixel share (train): "
                + ", ".join(f"{n} {100 * s:.1f}%" for n, s in zip(self.data["names"].values(), share))
            )
