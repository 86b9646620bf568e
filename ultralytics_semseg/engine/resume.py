"""Exact resume for Ultralytics' trainer: a resumed run continues as the uninterrupted one would have.

Ultralytics resumes from the FP16 EMA of the last checkpoint, restarts gradient accumulation and does not restore the
random states, so a resumed run drifts from the uninterrupted one. `ExactResume` (a mixin before `BaseTrainer`) saves
the FP32 model, EMA and optimizer tensors, the pending gradients, the last optimizer step and the RNG states inside
`ckpt['optimizer']`, and restores them. Nothing in it is specific to semantic segmentation; the trainer only has to
give its seeded training sampler to `self.train_sampler` (see `SemSegTrainer.get_dataloader`).
"""

from __future__ import annotations

import random

import numpy as np
import torch
from ultralytics.utils import LOGGER, RANK
from ultralytics.utils.torch_utils import unwrap_model

from ultralytics_semseg.utils.files import write_output

RESUME_KEY = "semseg_resume"  # the exact resume state inside ckpt['optimizer'] (see ExactResume.resume_state)


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


class ExactResume:
    """Mixin for an Ultralytics trainer (put it before `BaseTrainer`): checkpoints that resume exactly."""

    def __init__(self, *args, **kwargs):
        """Gradient accumulation bookkeeping, then the trainer; count batches with two callbacks."""
        self.train_sampler = None  # the trainer's seeded sampler, whose epoch a resume sets
        # batch counter, batch of the last optimizer step (what Ultralytics' loop keeps in its local `last_opt_step`),
        # and what a resume restores when its first epoch starts
        self._ni, self._last_step_ni, self._accumulate, self._step_offset, self._resumed = -1, -1, 1, 0, None
        super().__init__(*args, **kwargs)
        self.add_callback("on_train_epoch_start", ExactResume._on_train_epoch_start)
        self.add_callback("on_train_batch_start", ExactResume._on_train_batch_start)

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
            write_output(self.csv, "".join(lines[:1] + keep).encode(), "results CSV", f"{self.csv.name} is unchanged")
            LOGGER.warning(
                f"{self.csv}: dropped {len(lines) - 1 - len(keep)} row(s) after epoch {self.start_epoch}, written "
                f"after {self.args.resume}'s epoch (the run was stopped between saving the two); they are redone now"
            )

    def _close_dataloader_mosaic(self) -> None:
        """Ultralytics' mosaic closing, which restarts the loader's pass: the restarted pass is this epoch's."""
        super()._close_dataloader_mosaic()
        if self.train_sampler is not None:
            self.train_sampler.epoch = self.epoch
