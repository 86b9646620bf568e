"""Memory bound of scoring and predicting at the original image resolution.

Prediction and validation resize the logits to each image's original size (`utils.ops.to_original_logits`): float32
logits of every class, their maximum and index, the class map, the image and its overlay, about
`10 * nc + 40` bytes per original pixel (measured: 63 bytes per pixel for 3 classes, 9.06 GB peak RSS for a
12,000 x 12,000 JPEG). Before an image is processed, that estimate is compared with a budget: half of the memory
available, or `YOLO_SEMSEG_MEMORY_GB` when set. An image over it is a `MemoryBudgetError` naming the file, its size,
the estimate and the budget, instead of an out-of-memory kill.
"""

from __future__ import annotations

import os

GB = 1 << 30
BUDGET_ENV = "YOLO_SEMSEG_MEMORY_GB"


class MemoryBudgetError(ValueError):
    """An image too large to process at its original resolution within the memory budget."""


def bytes_per_pixel(nc: int) -> int:
    """Estimated peak bytes per original-resolution pixel of post-processing with `nc` classes."""
    return 10 * int(nc) + 40


def memory_budget() -> int:
    """Bytes one image's original-resolution post-processing may use: `YOLO_SEMSEG_MEMORY_GB`, else half of free RAM."""
    env = os.environ.get(BUDGET_ENV)
    if env:
        return int(float(env) * GB)
    import psutil

    return psutil.virtual_memory().available // 2


def require_image_memory(path: str, hw: tuple[int, int], nc: int, what: str = "predicting") -> None:
    """Raise a `MemoryBudgetError` when an image of `hw` (h, w) pixels needs more than the budget.

    Raises:
        MemoryBudgetError: Naming the file, its size, the estimate, the budget and what to do.

    Examples:
        >>> require_image_memory("small.jpg", (1024, 2048), nc=19)  # about 0.5 GB: fine on any machine
    """
    h, w = int(hw[0]), int(hw[1])
    need, budget = h * w * bytes_per_pixel(nc), memory_budget()
    if need <= budget:
        return
    source = f"{BUDGET_ENV}={os.environ[BUDGET_ENV]}" if os.environ.get(BUDGET_ENV) else "half the memory available"
    raise MemoryBudgetError(
        f"{path}: image of {w}x{h} pixels ({h * w / 1e6:.0f} MP) is too large for {what} at its original resolution "
        f"with {nc} classes: that needs about {need / GB:.1f} GB, more than the {budget / GB:.1f} GB allowed "
        f"({source}). "
        f"Downscale it{' (and its mask)' if what == 'validation' else ''} or cut it into tiles first, or raise "
        f"{BUDGET_ENV} on a machine with more memory."
    )


def on_predict_batch_start(predictor) -> None:
    """Predictor callback: check each original image of the batch against the budget (semseg predictors only)."""
    if getattr(getattr(predictor, "args", None), "task", None) != "semseg" or not predictor.batch:
        return
    paths, im0s = predictor.batch[0], predictor.batch[1]
    nc = len(getattr(predictor.model, "names", {}) or {}) or 1
    for p, im in zip(paths, im0s):
        if hasattr(im, "shape"):
            require_image_memory(p, im.shape[:2], nc, "predicting")
