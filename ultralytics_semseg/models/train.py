"""SemSegTrainer: Ultralytics' training loop (AMP, EMA, DDP, resume) with semseg data, model and loss."""

from __future__ import annotations

import logging
import math
import os
import random
from copy import copy
from pathlib import Path

import numpy as np
import torch
from ultralytics.cfg import get_save_dir
from ultralytics.data.build import build_dataloader
from ultralytics.engine.trainer import BaseTrainer
from ultralytics.utils import DEFAULT_CFG, LOGGER, RANK, colorstr
from ultralytics.utils.checks import check_amp as ultralytics_check_amp
from ultralytics.utils.torch_utils import torch_distributed_zero_first, unwrap_model

from ultralytics_semseg.cfg import load_defaults, resolve_weights
from ultralytics_semseg.compat import (
    loader_batch_sampler,
    trainer_amp_check,
    trainer_sets_class_weights,
    trainer_strip_optimizer,
)
from ultralytics_semseg.constants import STRIDE, TASK
from ultralytics_semseg.data.build import build_semseg_dataset, check_semseg_dataset
from ultralytics_semseg.data.sampler import SeededEpochSampler
from ultralytics_semseg.models.val import SemSegValidator
from ultralytics_semseg.nn.model import SemSegModel
from ultralytics_semseg.utils.files import (
    TMP_SUFFIX,
    AtomicPath,
    RunLock,
    atomic_write_bytes,
    check_checkpoint,
    disk_full,
    remove_stale_partials,
)
from ultralytics_semseg.utils.plotting import plot_class_distribution, plot_pairs

RESUME_KEY = "semseg_resume"  # the exact resume state inside ckpt['optimizer'] (see SemSegTrainer.resume_state)


def atomic_strip(strip_optimizer, f: str | Path = "best.pt", s: str = "", updates: dict | None = None) -> dict:
    """Ultralytics' `strip_optimizer(f, s, updates)` into a temporary file beside the target, renamed into place.

    A kill while the final `last.pt` / `best.pt` are rewritten at the end of training leaves the previous file; a full
    disk is a `DiskFullError` and leaves it too.
    """
    target = Path(s or f)
    tmp = target.with_name(f".{target.name}.{os.getpid()}{TMP_SUFFIX}")

    class _Unnamed(logging.Filter):  # 'Optimizer stripped from last.pt, saved as .last.pt.<pid>.partial': no
        def filter(self, record: logging.LogRecord) -> bool:
            if isinstance(record.msg, str):
                record.msg = record.msg.replace(f" saved as {tmp},", "" if not s else f" saved as {s},")
            return True

    LOGGER.addFilter(log_filter := _Unnamed())
    try:
        with disk_full(target, "final checkpoint", intact=f"{target.name} is left as the last epoch saved it"):
            out = strip_optimizer(f, s=str(tmp), updates=updates)
            if tmp.exists():
                os.replace(tmp, target)
    finally:
        LOGGER.removeFilter(log_filter)
        tmp.unlink(missing_ok=True)
    return out


def get_rng_states() -> dict:
    """Python's, NumPy's, torch's CPU and every CUDA device's RNG states, as plain lists and tensors.

    Plain types load under `ULTRALYTICS_SAFE_LOAD=1` too (no NumPy arrays in the checkpoint).
    """
    kind, key, pos, has_gauss, gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(key.astype(np.int64)), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }


def set_rng_states(states: dict) -> None:
    """Restore the RNG states of `get_rng_states` (CUDA ones only on a machine with as many initialised devices)."""
    random.setstate(states["python"])
    kind, key, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, key.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])


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


class SemSegTrainer(BaseTrainer):
    """Trainer of the semseg task.

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
        self.train_sampler = None
        # Gradient accumulation bookkeeping for exact resumes: batch counter, batch of the last optimizer step (what
        # Ultralytics' loop keeps in its local `last_opt_step`), and what a resume restores when its first epoch starts
        self._ni, self._last_step_ni, self._accumulate, self._step_offset, self._resumed = -1, -1, 1, 0, None
        super().__init__(cfg, overrides, _callbacks)
        self.add_callback("on_train_epoch_start", SemSegTrainer._on_train_epoch_start)
        self.add_callback("on_train_batch_start", SemSegTrainer._on_train_batch_start)
        if self.device.type == "cpu":
            # Ultralytics keeps one core free for loader workers, but CPU training loads in the main process
            # (workers=0), so the model may use every core.
            torch.set_num_threads(os.cpu_count() or 1)

    def check_resume(self, overrides: dict) -> None:
        """Ultralytics' resume check, after naming a truncated checkpoint; then lock the run folder.

        Called by `BaseTrainer.__init__` before it writes anything (args.yaml, a fresh results.csv) into the run folder,
        so a second run into a folder that a live run writes into (`exist_ok=True`, same project/name) is refused
        here, before it touches a file, naming the running one. The folder is fixed now (`args.save_dir`), so the one
        locked is the one used.

        Raises:
            CorruptCheckpointError: For a truncated resume checkpoint, naming the intact ones beside it.
            RunFolderBusyError: If another live run holds the folder's lock.
        """
        resume = self.args.resume
        if isinstance(resume, (str, Path)) and str(resume).endswith(".pt") and Path(resume).is_file():
            check_checkpoint(resume)
        super().check_resume(overrides)
        self._run_lock = None
        if RANK == -1:  # DDP workers run inside the launcher's lock
            self.args.save_dir = str(get_save_dir(self.args))
            self._run_lock = RunLock(self.args.save_dir).acquire()

    def train(self):
        """Ultralytics' training, releasing the run folder's lock when it ends (also on an error)."""
        try:
            return super().train()
        finally:
            if getattr(self, "_run_lock", None) is not None:
                self._run_lock.release()

    def save_model(self):
        """Ultralytics' checkpoint saving, with last.pt, best.pt and epochN.pt written atomically.

        `BaseTrainer.save_model` serialises the checkpoint once and writes it with `Path.write_bytes` to `self.last`,
        `self.best` and `self.wdir / 'epochN.pt'`; for the call those are `AtomicPath`s, whose `write_bytes` writes a
        temporary file in the same folder, flushes it and renames it into place. A kill at any moment leaves the
        previous checkpoint or the new one; a full disk is a `DiskFullError` naming the file, the old one intact.
        (Ultralytics serialises into memory first, so only these writes touch the disk.)
        """
        paths = self.wdir, self.last, self.best
        self.wdir, self.last, self.best = (AtomicPath(p) for p in paths)
        try:
            remove_stale_partials(self.wdir)
            return super().save_model()
        finally:
            self.wdir, self.last, self.best = paths

    def save_metrics(self, metrics: dict) -> None:
        """Ultralytics' results.csv row, appended to a copy of the file that is then renamed over it.

        A kill while writing leaves the previous rows whole; a full disk is a `DiskFullError`, results.csv as it was.
        """
        csv = self.csv
        tmp = csv.with_name(f".{csv.name}.{os.getpid()}{TMP_SUFFIX}")
        try:
            with disk_full(csv, "results CSV", intact=f"{csv.name} keeps the rows of the epochs before"):
                if csv.exists():
                    tmp.write_bytes(csv.read_bytes())
                self.csv = tmp  # the header too goes to the temporary file when there is no results.csv yet
                super().save_metrics(metrics)
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(tmp, csv)
        finally:
            self.csv = csv
            tmp.unlink(missing_ok=True)

    def final_eval(self):
        """Ultralytics' final validation, which strips last.pt and best.pt, here atomically (`atomic_strip`)."""
        with trainer_strip_optimizer(atomic_strip):
            return super().final_eval()

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
            batches.sampler = self.train_sampler = SeededEpochSampler(batches.sampler, self.args.seed, rank)
            self.train_sampler.epoch = getattr(self, "epoch", self.start_epoch)  # an OOM rebuild redoes this epoch
        return loader

    @property
    def accumulate(self) -> int:
        """Batches per optimizer step as Ultralytics' loop compares them: `ni - last_opt_step >= accumulate`.

        Ultralytics' loop restarts `last_opt_step` at -1 on every start, so after a resume with gradient accumulation
        (batch < nbs) it would step after fewer batches than the uninterrupted run. Until the first step of a resumed
        run the threshold is raised by the saved position of the last step + 1, which makes the comparison the one
        the uninterrupted run makes; the warm-up and `_build_train_pipeline` set the value as usual.
        """
        return self._accumulate + self._step_offset

    @accumulate.setter
    def accumulate(self, value: int) -> None:
        self._accumulate = value

    def optimizer_step(self) -> None:
        """Ultralytics' optimizer step (clip, step, zero grads, EMA update), remembering the batch it happened at."""
        super().optimizer_step()
        self._last_step_ni, self._step_offset = self._ni, 0

    def _on_train_epoch_start(self) -> None:
        """Count batches from this epoch; on a resume's first epoch restore the pending gradients and step position.

        Runs after Ultralytics' `optimizer.zero_grad()` at the start of training, which would drop the gradients.
        """
        self._ni = self.epoch * len(self.train_loader) - 1
        if self._resumed is not None:
            grads, last_step = self._resumed
            self._resumed = None
            params = dict(unwrap_model(self.model).named_parameters())
            for name, grad in grads.items():
                params[name].grad = grad.to(params[name].device)
            self._step_offset = last_step + 1

    def _on_train_batch_start(self) -> None:
        self._ni += 1

    def build_optimizer(self, *args, **kwargs) -> torch.optim.Optimizer:
        """Ultralytics' optimizer; its state dict also carries this run's exact resume state (`resume_state`)."""
        optimizer = super().build_optimizer(*args, **kwargs)
        optimizer.register_state_dict_post_hook(lambda _, state_dict: self.resume_state(state_dict))
        return optimizer

    def resume_state(self, optimizer_state: dict) -> None:
        """Add what a resumed run needs to continue exactly as the uninterrupted one to the optimizer's state dict.

        Ultralytics' checkpoints hold the EMA (and SGD momentum) in FP16 and resume the model from the EMA, and do not
        record the random states. This adds, in FP32: the model's own weights, the EMA's, the optimizer's tensors,
        gradients accumulated since the last optimizer step and that step's batch number, plus Python's, NumPy's and
        torch's RNG states. It rides in `ckpt['optimizer']`, which `strip_optimizer` removes when training ends, so
        the final `last.pt` / `best.pt` stay as small as Ultralytics makes them.
        """
        if RANK not in {-1, 0} or getattr(self, "ema", None) is None:
            return
        tensors = {
            i: {k: v for k, v in s.items() if isinstance(v, torch.Tensor) and v.is_floating_point()}
            for i, s in optimizer_state["state"].items()
        }  # Ultralytics halves some of them in the checkpoint (SGD momentum on 8.4, all on 8.3)
        optimizer_state[RESUME_KEY] = {
            "epoch": getattr(self, "epoch", -1),
            "model": unwrap_model(self.model).state_dict(),
            "ema": self.ema.ema.state_dict(),
            "optimizer_state": tensors,
            "pending_grads": {k: p.grad for k, p in unwrap_model(self.model).named_parameters() if p.grad is not None},
            "last_step": self._last_step_ni,
            "rng": get_rng_states(),
        }

    def resume_training(self, ckpt: dict | None) -> None:
        """Ultralytics' resume, then the exact weights, optimizer tensors and random states saved by `resume_state`."""
        super().resume_training(ckpt)
        if ckpt is None or not self.resume:
            return
        if self.train_sampler is not None:
            self.train_sampler.epoch = self.start_epoch
        self._trim_results_csv()
        state = (ckpt.get("optimizer") or {}).get(RESUME_KEY)
        if not state or state.get("epoch") != ckpt.get("epoch"):
            LOGGER.warning(
                f"{self.args.model} has no exact resume state (written by another trainer or an older "
                f"ultralytics-semseg); resuming from its FP16 EMA weights, so the run will differ from an "
                f"uninterrupted one"
            )
            return
        unwrap_model(self.model).load_state_dict(state["model"])
        self.ema.ema.load_state_dict(state["ema"])
        optimizer_state = self.optimizer.state_dict()
        optimizer_state.pop(RESUME_KEY, None)
        for i, tensors in state["optimizer_state"].items():
            optimizer_state["state"][i].update(tensors)
        self.optimizer.load_state_dict(optimizer_state)
        self._resumed = state["pending_grads"], state["last_step"]  # applied when the first epoch starts
        set_rng_states(state["rng"])  # last: nothing after this draws random numbers before the first batch
        LOGGER.info(
            f"Restored the exact model, EMA, optimizer, gradient and random states of epoch {ckpt['epoch'] + 1}"
        )

    def _trim_results_csv(self) -> None:
        """Drop results.csv rows of epochs after the resume checkpoint's (a kill between the CSV and last.pt saves)."""
        if not self.csv.exists():
            return
        lines = self.csv.read_text(encoding="utf-8").splitlines(keepends=True)
        keep = [
            x for x in lines[1:] if x.split(",", 1)[0].strip().isdigit() and int(x.split(",")[0]) <= self.start_epoch
        ]
        if len(keep) < len(lines) - 1:
            with disk_full(self.csv, "results CSV", intact=f"{self.csv.name} is unchanged"):
                atomic_write_bytes(self.csv, "".join(lines[:1] + keep).encode())
            LOGGER.warning(
                f"{self.csv}: dropped {len(lines) - 1 - len(keep)} row(s) after epoch {self.start_epoch}, written "
                f"after {self.args.resume}'s epoch (the run was stopped between saving the two); they are redone now"
            )

    def _close_dataloader_mosaic(self) -> None:
        """Ultralytics' mosaic closing, which restarts the loader's pass: the restarted pass is this epoch's."""
        super()._close_dataloader_mosaic()
        if self.train_sampler is not None:
            self.train_sampler.epoch = self.epoch

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
        cross-entropy. Called by Ultralytics before the EMA copy is made; `_setup_train` calls it on releases without
        that hook.
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
        ema = getattr(getattr(self, "ema", None), "ema", None)  # exists already where _setup_train calls this
        for model in (unwrap_model(self.model), ema):
            if model is None:
                continue
            model.class_weights = weights
            model.criterion = None

    def _setup_train(self) -> None:
        """Ultralytics' setup, with the semseg `check_amp` (no detection model, no download) and class weights."""
        with trainer_amp_check(check_amp):
            super()._setup_train()
        if not trainer_sets_class_weights():
            self.set_class_weights()

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
