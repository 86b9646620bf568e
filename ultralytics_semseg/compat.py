"""Every difference between the supported Ultralytics releases, in one place."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import SimpleNamespace


@contextmanager
def trainer_amp_check(check: Callable):
    """Within the block, Ultralytics' `BaseTrainer._setup_train` runs `check(model) -> bool` as its AMP check.

    Ultralytics' `check_amp` compares a *detection* model, `yolo26n.pt`, in FP32 and under autocast; it never runs the
    model being trained, and where the file is missing it tries to download it first (an offline machine then skips
    the check after the download fails). 8.3 and 8.4 releases both call the `check_amp` imported into
    `ultralytics.engine.trainer`, which is rebound here for the block only.
    """
    import ultralytics.engine.trainer as trainer

    original = trainer.check_amp
    trainer.check_amp = check
    try:
        yield
    finally:
        trainer.check_amp = original


def fp16_enabled(args: SimpleNamespace) -> bool:
    """Half-precision inference flag: `quantize=16`.

    Ultralytics' `get_cfg` maps 'fp16' and the deprecated `half=True` onto it from 8.4.190, the supported floor.
    """
    return getattr(args, "quantize", None) == 16


def int8_enabled(args: SimpleNamespace) -> bool:
    """INT8 export flag: `quantize=8` (Ultralytics maps 'int8' and the deprecated `int8=True` onto it)."""
    return getattr(args, "quantize", None) == 8


def openvino_fp32(autobackend, weights) -> None:
    """Make Ultralytics' OpenVINO backend infer in FP32 (it lets the CPU plugin pick bf16 where the CPU has it).

    bf16 flips the argmax at about 0.2 % of the pixels of a semseg model; FP32 keeps exported predictions equal to
    PyTorch's. Reaches into the backend's `compile_model` partial, which 8.4.x releases build the same way.
    """
    backend = getattr(autobackend, "backend", None)
    compile_model = getattr(backend, "compile_model", None)
    if type(backend).__name__ != "OpenVINOBackend" or not hasattr(compile_model, "keywords"):
        return
    import openvino as ov

    kw = compile_model.keywords
    config = {**kw.get("config", {}), "INFERENCE_PRECISION_HINT": ov.Type.f32}
    core = compile_model.func.__self__
    w = Path(weights)
    xml = w if w.is_file() else next(w.glob("*.xml"))
    backend.compile_model = partial(compile_model.func, device_name=kw.get("device_name", "CPU"), config=config)
    backend.ov_compiled_model = backend.compile_model(core.read_model(model=str(xml), weights=xml.with_suffix(".bin")))


@contextmanager
def predict_label_summary(logger: logging.Logger, describe: Callable[[], str]):
    r"""Within the block, replace the label count of Ultralytics' closing predict line with `describe()`.

    `BasePredictor.stream_inference` ends with 'Results saved to <dir>\nN labels saved to <dir>/labels', where N counts
    `labels/*.txt`; the semseg task writes PNG class maps there instead, so N would always read 0. The wording is
    matched as 8.3 and 8.4 releases print it; `tests/test_reliability.py` fails if a release changes it.
    """
    pattern = re.compile(r"\n\d+ labels? saved to .*", re.S)

    class _Relabel(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            msg = record.msg
            if isinstance(msg, str) and msg.startswith("Results saved to") and pattern.search(msg):
                record.msg = pattern.sub(lambda _: "\n" + describe(), msg)
            return True

    f = _Relabel()
    logger.addFilter(f)
    try:
        yield
    finally:
        logger.removeFilter(f)


def loader_batch_sampler(loader):
    """The torch `BatchSampler` of an Ultralytics training loader, whose `.sampler` yields the sample indices.

    8.x releases wrap it in `InfiniteDataLoader`'s `_RepeatSampler` (`loader.batch_sampler.sampler`); a plain torch
    `DataLoader` holds it directly.

    Raises:
        RuntimeError: If a release builds its loaders another way, naming what it found.
    """
    from torch.utils.data import BatchSampler

    bs = loader.batch_sampler
    if not isinstance(bs, BatchSampler):
        bs = getattr(bs, "sampler", None)
    if not isinstance(bs, BatchSampler):
        raise RuntimeError(
            f"ultralytics_semseg.compat.loader_batch_sampler: {type(loader).__name__}.batch_sampler is "
            f"{type(loader.batch_sampler).__name__}, without a torch BatchSampler at .sampler; this Ultralytics "
            "release builds its loaders differently, update compat.py"
        )
    return bs


@contextmanager
def trainer_strip_optimizer(strip: Callable):
    """Within the block, Ultralytics' `BaseTrainer.final_eval` strips `last.pt` / `best.pt` with `strip(f, s, updates)`.

    `final_eval` calls the `strip_optimizer` imported into `ultralytics.engine.trainer`, which `torch.save`s straight
    over the checkpoint; the semseg trainer passes one that writes a temporary file and renames it (`atomic_strip`).
    """
    import ultralytics.engine.trainer as trainer

    original = trainer.strip_optimizer
    trainer.strip_optimizer = partial(strip, original)
    try:
        yield
    finally:
        trainer.strip_optimizer = original
