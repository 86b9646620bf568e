"""Checkpoints that survive kills and full disks, and a run folder that one run writes at a time.

`SafeCheckpoints` (a mixin before `BaseTrainer`) writes last.pt, best.pt, epochN.pt and results.csv atomically
(a temporary file beside the target, renamed into place), names a full disk instead of leaving a broken file,
strips the final checkpoints atomically and locks the run folder against a second run. Nothing in it is specific to
semantic segmentation.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ultralytics.cfg import get_save_dir
from ultralytics.utils import LOGGER, RANK

from ultralytics_semseg.compat import trainer_strip_optimizer
from ultralytics_semseg.utils.files import (
    TMP_SUFFIX,
    AtomicPath,
    RunLock,
    disk_full,
    remove_stale_partials,
    require_intact_checkpoint,
)


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


class SafeCheckpoints:
    """Mixin for an Ultralytics trainer (put it before `BaseTrainer`): atomic checkpoints and a locked run folder."""

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
            require_intact_checkpoint(resume)
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
