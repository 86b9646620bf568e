"""SemSegTrainer: Ultralytics' training loop (AMP, EMA, DDP, resume) with semseg data, model and loss."""

from __future__ import annotations

import math
import os
import random
from copy import copy
from pathlib import Path

import numpy as np
import torch
from ultralytics.data.build import build_dataloader
from ultralytics.engine.trainer import BaseTrainer
from ultralytics.utils import DEFAULT_CFG, LOGGER, RANK, colorstr
from ultralytics.utils.checks import check_amp as ultralytics_check_amp
from ultralytics.utils.torch_utils import torch_distributed_zero_first, unwrap_model

from ultralytics_semseg.cfg import load_defaults, resolve_weights
from ultralytics_semseg.compat import loader_batch_sampler, trainer_amp_check
from ultralytics_semseg.constants import STRIDE, TASK
from ultralytics_semseg.data.build import build_semseg_dataset, check_semseg_dataset
from ultralytics_semseg.data.sampler import SeededEpochSampler, rare_class_weights
from ultralytics_semseg.engine.checkpoints import SafeCheckpoints
from ultralytics_semseg.engine.resume import ExactResume
from ultralytics_semseg.models.calibrate import calibrate_checkpoint
from ultralytics_semseg.models.val import SemSegValidator
from ultralytics_semseg.nn.model import SemSegModel
from ultralytics_semseg.utils.plotting import plot_class_distribution, plot_pairs


@torch.no_grad()
def amp_class_maps_agree(model: torch.nn.Module, device_type: str, dtype: torch.dtype, imgsz: int = 256) -> bool:
    """Whether `model` gives finite logits and the same class map (>= 99 % of pixels) in FP32 and under autocast.

    Runs one fixed pseudo-random image (its own generator: the global random state is untouched) through the model in
    eval mode, then restores its mode.
    """
    m = unwrap_model(model)
    x = torch.rand(1, m.yaml.get("channels", 3), imgsz, imgsz, generator=torch.Generator().manual_seed(0))
    x = x.to(next(m.parameters()).device)
    training = m.training
    m.eval()
    try:
        a = m(x)
        with torch.autocast(device_type, dtype=dtype):
            b = m(x)
    finally:
        m.train(training)
    return bool(torch.isfinite(b).all()) and (a.argmax(1) == b.argmax(1)).float().mean().item() >= 0.99


def check_amp(model: torch.nn.Module) -> bool:
    """AMP check of the semseg trainer: the model being trained, FP32 against FP16 autocast, on CUDA.

    Replaces Ultralytics' `check_amp` during `_setup_train` (see `compat.trainer_amp_check`), which checks a detection
    model, `yolo26n.pt`, and tries to download it first where it is missing. Off CUDA, Ultralytics' check decides
    (AMP off on CPU and MPS without any download). Returns whether to train with AMP.
    """
    device = next(model.parameters()).device
    if device.type != "cuda":
        return ultralytics_check_amp(model)
    prefix = colorstr("AMP: ")
    LOGGER.info(f"{prefix}running Automatic Mixed Precision (AMP) checks on the semseg model...")
    try:
        ok = amp_class_maps_agree(model, "cuda", torch.float16)
    except RuntimeError as e:
        LOGGER.warning(f"{prefix}checks failed ❌ ({e}), so AMP will be disabled during training.")
        return False
    if ok:
        LOGGER.info(f"{prefix}checks passed ✅")
    else:
        LOGGER.warning(
            f"{prefix}checks failed ❌. FP16 autocast gives non-finite logits or other class maps than FP32 on this "
            f"GPU, so AMP will be disabled during training."
        )
    return ok


class SemSegTrainer(ExactResume, SafeCheckpoints, BaseTrainer):
    """Trainer of the semseg task.

    Exact resumes (`engine/resume.py`) and atomic checkpoints with a locked run folder (`engine/checkpoints.py`) come
    from the two mixins; this class holds what is semseg's: data, model, class weights, AMP check, plots.
    Task defaults from `ultralytics_semseg/cfg/default.yaml` (AdamW, cosine lr, no mosaic, random resize + crop) apply
    first; anything the user passes overrides them. Checkpoints record `task: semseg`.

    Examples:
        >>> from ultralytics_semseg.models.train import SemSegTrainer
        >>> args = {"model": "yolo11n-semseg.yaml", "data": "synthetic-streets.yaml", "epochs": 3}
        >>> trainer = SemSegTrainer(overrides=args)  # doctest: +SKIP
        >>> trainer.train()  # doctest: +SKIP
    """

    def __init__(self, cfg=DEFAULT_CFG, overrides: dict | None = None, _callbacks=None):
        """Start from the task defaults of `cfg/default.yaml` (not on resume), then apply `overrides`."""
        overrides = dict(overrides or {})
        if not overrides.get("resume"):  # a resumed run takes its arguments, task defaults included, from last.pt
            overrides = {**load_defaults(), **overrides}
        if isinstance(overrides.get("pretrained"), (str, Path)):  # pretrained=yolo11n-semseg.pt: the packaged file
            overrides["pretrained"] = resolve_weights(overrides["pretrained"])
        overrides["task"] = TASK
        super().__init__(cfg, overrides, _callbacks)
        if self.device.type == "cpu":
            # Ultralytics keeps one core free for loader workers, but CPU training loads in the main process
            # (workers=0), so the model may use every core.
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
        """Give the model the dataset's classes and the training arguments."""
        self.model.nc = self.data["nc"]
        self.model.names = self.data["names"]
        self.model.args = self.args

    def build_dataset(self, img_path: str, mode: str = "train", batch: int | None = None):
        """Build the train (augmented crops) or val (letterboxed, original-size masks) `SemSegDataset` of a split."""
        model = self.model
        gs = max(int(unwrap_model(model).stride.max()), STRIDE) if isinstance(model, torch.nn.Module) else STRIDE
        # validation always with the predictor's letterbox, as `yolo semseg val` does, so that train-time and
        # standalone scores agree (Ultralytics' rect=False default would pad every image to an imgsz square)
        return build_semseg_dataset(self.args, img_path, batch, self.data, mode=mode, stride=gs, rect=mode == "val")

    def get_dataloader(self, dataset_path: str, batch_size: int = 16, rank: int = 0, mode: str = "train"):
        """Build the dataset of a split and its dataloader (shuffled, without a last incomplete batch, for training)."""
        assert mode in {"train", "val"}, f"mode must be 'train' or 'val', not {mode}."
        with torch_distributed_zero_first(rank):  # verify and cache pairs once under DDP
            dataset = self.build_dataset(dataset_path, mode, batch_size)
        train = mode == "train"
        # drop_last avoids a final 1-image batch, which BatchNorm cannot train on
        loader = build_dataloader(dataset, batch_size, self.args.workers, shuffle=train, rank=rank, drop_last=train)
        if train:  # order and augmentation fixed by (seed, epoch, position): exact resumes, any number of workers
            batches = loader_batch_sampler(loader)
            weights = self.sample_weights(dataset)
            batches.sampler = self.train_sampler = SeededEpochSampler(batches.sampler, self.args.seed, rank, weights)
            self.train_sampler.epoch = getattr(self, "epoch", self.start_epoch)  # an OOM rebuild redoes this epoch
        return loader

    def sample_weights(self, dataset) -> np.ndarray | None:
        """Per-image sampling weights for rare-class sampling (`rare_class_sampling` temperature > 0), else None.

        0 turns sampling off; a negative temperature is refused by `rare_class_weights` with a message naming it.
        """
        temperature = self.args.rare_class_sampling or 0.0
        if not temperature:
            return None
        counts = np.stack([x["counts"] for x in dataset.labels])
        if not counts.any():  # nothing labelled: no class to favour
            return None
        weights = rare_class_weights(counts, temperature)
        top = np.sort(weights)[::-1][: max(1, len(weights) // 10)].sum()
        LOGGER.info(
            f"Rare-class sampling (temperature {temperature}): the most-drawn 10% of the {len(weights)} training "
            f"images get {100 * top:.0f}% of the draws"
        )
        return weights

    def preprocess_batch(self, batch: dict) -> dict:
        """Move the batch to the device, scale images to 0-1 and, with `multi_scale`, resize it by a random factor."""
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
        """The validator run after each epoch, on the trainer's val dataloader."""
        return SemSegValidator(
            self.test_loader, save_dir=self.save_dir, args=copy(self.args), _callbacks=self.callbacks
        )

    def label_loss_items(self, loss_items=None, prefix: str = "train"):
        """Ultralytics' labelled loss items, without `val/aux_loss`: the auxiliary head does not run in validation."""
        items = super().label_loss_items(loss_items, prefix)
        if prefix != "val":
            return items
        if isinstance(items, dict):
            return {k: v for k, v in items.items() if k != "val/aux_loss"}
        return [k for k in items if k != "val/aux_loss"]

    def progress_string(self) -> str:
        """Header of the per-epoch progress table."""
        return ("\n" + "%11s" * (4 + len(self.loss_names))) % ("Epoch", "GPU_mem", *self.loss_names, "Images", "Size")

    def plot_training_samples(self, batch: dict, ni: int) -> None:
        """Save `train_batch<ni>.jpg`: up to 8 augmented training images beside their masks."""
        imgs = batch["img"][:8].mul(255).byte().permute(0, 2, 3, 1).flip(-1).cpu().numpy()
        masks = batch["semseg_mask"][:8].cpu().numpy()
        plot_pairs(list(imgs), masks, None, self.data["names"], self.save_dir / f"train_batch{ni}.jpg")

    def get_class_counts(self) -> np.ndarray:
        """Pixels per class in the train split, from the label cache (no mask is read again)."""
        return np.sum([x["counts"] for x in self.train_loader.dataset.labels], 0).astype(np.float64)

    def compute_class_weights(self, class_counts: np.ndarray) -> np.ndarray:
        """ENet class weights `(1 / ln(1.02 + share)) ** cls_pw` of pixel counts, normalised to mean 1.

        Classes without pixels get the mean weight of the others.
        """
        present = class_counts > 0
        weights = (1 / np.log(1.02 + class_counts / class_counts.sum())) ** self.args.cls_pw
        weights = np.where(present, weights, weights[present].mean())
        return weights / weights.mean()

    def set_class_weights(self) -> None:
        """Weight the loss by `compute_class_weights` of the train split's pixel counts (`cls_pw` > 0).

        Computed from whatever dataset is being trained (never looked up by its name). `cls_pw=0` trains with plain
        cross-entropy. Called by Ultralytics' `_setup_train` before the EMA copy is made.
        """
        if not self.args.cls_pw:
            return
        counts = self.get_class_counts()
        if not counts.any():
            return
        weights = torch.from_numpy(self.compute_class_weights(counts)).float().to(self.device)
        self._assign_class_weights(weights)
        LOGGER.info(f"Class weights (cls_pw={self.args.cls_pw}): {[round(float(w), 2) for w in weights]}")

    def _assign_class_weights(self, weights: torch.Tensor) -> None:
        """Give the model (and the EMA, if it exists yet) the weights; their loss is rebuilt with them on next use."""
        ema = getattr(getattr(self, "ema", None), "ema", None)  # None when Ultralytics' setup calls this
        for model in (unwrap_model(self.model), ema):
            if model is None:
                continue
            model.class_weights = weights
            model.criterion = None

    def _setup_train(self) -> None:
        """Ultralytics' setup (which calls `set_class_weights`), with the semseg `check_amp` (no download)."""
        with trainer_amp_check(check_amp):
            super()._setup_train()

    def final_eval(self):
        """Calibrate the class biases of last.pt and best.pt (`bias_calibration`), then Ultralytics' final validation.

        Runs once, on the main process, after the last epoch: the final validation, `model.train()`'s returned model
        and every later predict or export then use the calibrated head (`models/calibrate.py`).
        """
        if self.args.bias_calibration and RANK in {-1, 0}:
            fitted = {}  # best.pt often holds last.pt's weights (best epoch = last): fitted once, applied to both
            for f in dict.fromkeys((self.last, self.best)):  # best.pt may not exist (e.g. val=False)
                if f.exists():
                    calibrate_checkpoint(f, self.args, device=self.device, fitted=fitted)
        return super().final_eval()

    def plot_training_labels(self) -> None:
        """Save `labels.jpg`, the pixels per class of the train split, and log each class's pixel share."""
        counts = self.get_class_counts()
        plot_class_distribution(counts, self.data["names"], self.save_dir / "labels.jpg", on_plot=self.on_plot)
        if RANK in {-1, 0}:
            share = counts / max(counts.sum(), 1)
            LOGGER.info(
                "Class pixel share (train): "
                + ", ".join(f"{n} {100 * s:.1f}%" for n, s in zip(self.data["names"].values(), share))
            )
