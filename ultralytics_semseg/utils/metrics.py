"""Dataset-level confusion matrix and the segmentation metrics derived from it."""

from __future__ import annotations

import numpy as np
import torch

from ultralytics_semseg.data.utils import IGNORE


class SemSegMetrics:
    """Accumulate an `nc x nc` confusion matrix (rows = ground truth, columns = prediction) over a whole dataset.

    Pixels whose ground truth is 255 (ignore) are excluded everywhere. Accumulation stays on the model's device with
    one `bincount` per batch. Means are taken over the classes that occur in the ground truth or in the predictions
    (union > 0), the mmsegmentation / cityscapesScripts convention; a class absent from both counts neither as 0
    nor as 1.

    Attributes:
        matrix (torch.Tensor): Confusion matrix of pixel counts (int64).

    Examples:
        >>> m = SemSegMetrics({0: "road", 1: "car"})
        >>> m.update(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 255]]))
        >>> round(m.miou, 4), round(m.pixel_acc, 4)
        (0.5, 0.6667)
    """

    def __init__(self, names: dict[int, str]):
        self.names = names
        self.nc = len(names)
        self.matrix = torch.zeros(self.nc, self.nc, dtype=torch.int64)

    def reset(self) -> None:
        self.matrix.zero_()

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """Add one class map and its ground truth (same shape, any integer dtype)."""
        target = target.to(pred.device).long().flatten()
        pred = pred.long().flatten()
        valid = target != IGNORE
        if not bool(valid.all()):
            target, pred = target[valid], pred[valid]
        idx = target * self.nc + pred.clamp(0, self.nc - 1)
        counts = torch.bincount(idx, minlength=self.nc * self.nc).view(self.nc, self.nc)
        if self.matrix.device != counts.device:
            self.matrix = self.matrix.to(counts.device)
        self.matrix += counts

    # --- derived quantities, on the CPU in float64 ---
    @property
    def _cm(self) -> np.ndarray:
        return self.matrix.cpu().double().numpy()

    @property
    def iou_per_class(self) -> np.ndarray:
        """IoU per class; NaN where the class is absent from both ground truth and predictions."""
        cm = self._cm
        tp = np.diag(cm)
        union = cm.sum(0) + cm.sum(1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, tp / union, np.nan)

    @property
    def recall_per_class(self) -> np.ndarray:
        """Per-class pixel accuracy TP / (TP + FN); NaN for classes without ground-truth pixels."""
        cm = self._cm
        gt = cm.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(gt > 0, np.diag(cm) / gt, np.nan)

    @property
    def pixels_per_class(self) -> np.ndarray:
        return self._cm.sum(1)

    @property
    def miou(self) -> float:
        iou = self.iou_per_class
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else 0.0

    @property
    def pixel_acc(self) -> float:
        cm = self._cm
        return float(np.trace(cm) / cm.sum()) if cm.sum() else 0.0

    @property
    def keys(self) -> list[str]:
        return ["metrics/mIoU", "metrics/pixel_acc"]

    @property
    def fitness(self) -> float:
        return self.miou

    @property
    def results_dict(self) -> dict[str, float]:
        return {"metrics/mIoU": self.miou, "metrics/pixel_acc": self.pixel_acc, "fitness": self.fitness}
