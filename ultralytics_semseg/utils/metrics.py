"""Dataset-level confusion matrix and every segmentation metric derived from it.

One rule decides which classes enter a mean: a class counts when it has ground-truth or predicted pixels
(TP + FP + FN > 0). For such a class a 0/0 ratio is 0 (precision of a class that was never predicted, recall of a
class that only appears in predictions). A class absent from both ground truth and predictions has NaN in the
per-class arrays and is left out of every mean: it counts neither as 0 nor as 1. Definitions: docs/metrics.md.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from ultralytics.utils import DataExportMixin, SimpleClass

from ultralytics_semseg.constants import IGNORE


class ClassMetric(NamedTuple):
    """One per-class metric: its key in `SemSegScores.per_class`, its column title and the results key of its mean."""

    name: str
    title: str
    mean_key: str
    lower_is_better: bool = False

    @property
    def header(self) -> str:
        """The column header of the validator's table ('MCR(↓)' for a metric where lower is better)."""
        return f"{self.title}(↓)" if self.lower_is_better else self.title


# The one list of per-class metrics: the validator's table, `summary` rows and `results_dict` all follow it
CLASS_METRICS = (
    ClassMetric("IoU", "IoU", "metrics/mIoU"),
    ClassMetric("Dice", "Dice", "metrics/mDice"),
    ClassMetric("precision", "Precision", "metrics/mPrecision"),
    ClassMetric("recall", "Recall", "metrics/mRecall"),
    ClassMetric("MCR", "MCR", "metrics/mMCR", lower_is_better=True),
)
MEAN_KEYS = {m.mean_key: m.name for m in CLASS_METRICS}  # results_dict key -> per-class metric it averages


def _ratio(num: np.ndarray, den: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Return num / den, with 0/0 -> 0 for counted classes and NaN for classes left out."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    return np.where(counted, out, np.nan)


def confusion_counts(pred: torch.Tensor, target: torch.Tensor, nc: int, sync_free: bool | None = None) -> torch.Tensor:
    """(nc, nc) int64 pixel counts of one class map against its ground truth (rows = ground truth), on `pred`'s device.

    Ground-truth ids outside 0..nc-1 (255 = ignore) are skipped. On the CPU, for nc <= 255, no masking is needed: those
    rows land in bins past nc*nc that are cut off, so one int32 `bincount` does (faster than masking). On a GPU
    (`sync_free`, the default off the CPU), `bincount` and boolean indexing read their output size back to the host,
    a sync per image; there the pair ids are sorted (invalid pixels to one extra id past the last) and each bin's
    count is the distance between its edges, found by `searchsorted` (deterministic, unlike `index_add_`, whose
    deterministic mode under Ultralytics' default `deterministic=True` is far slower).
    """
    target = target.to(pred.device).flatten().to(torch.int32)
    pred = pred.flatten().to(torch.int32).clamp(0, nc - 1)
    if sync_free if sync_free is not None else pred.device.type != "cpu":
        idx = torch.where((target >= 0) & (target < nc), target * nc + pred, nc * nc).sort().values
        edges = torch.arange(nc * nc + 1, dtype=torch.int32, device=idx.device)
        counts = torch.searchsorted(idx, edges).diff()
    elif nc <= IGNORE:
        counts = torch.bincount(target * nc + pred, minlength=(IGNORE + 1) * nc)[: nc * nc]
    else:
        valid = (target >= 0) & (target < nc)
        counts = torch.bincount((target[valid] * nc + pred[valid]).long(), minlength=nc * nc)
    return counts.view(nc, nc)


class SemSegScores:
    """Per-class arrays and means computed from a confusion matrix (rows = ground truth, columns = prediction).

    Attributes:
        matrix (np.ndarray): (nc, nc) pixel counts, ignore excluded.
        per_class (dict[str, np.ndarray]): 'IoU', 'Dice', 'precision', 'recall', 'MCR' per class (NaN: not counted).
        counted (np.ndarray): bool, the classes that enter the means (ground-truth or predicted pixels).
        means (dict[str, float]): the mean of each `per_class` metric over the counted classes (0 without any).
        IoU, DiceScore, precision, recall, MCR (float): those means by name (MCR: lower is better).
        mAcc (float): mean class accuracy, the same number as `recall`.
        aAcc (float): pixel accuracy over all valid pixels.
        fwIoU (float): IoU weighted by each class's share of ground-truth pixels.

    Examples:
        >>> s = SemSegScores(np.array([[3, 1], [0, 2]]))
        >>> round(s.IoU, 4), round(s.aAcc, 4), round(float(s.per_class["MCR"][0]), 4)
        (0.7083, 0.8333, 0.1667)
    """

    def __init__(self, matrix: np.ndarray):
        """Compute every per-class score and mean from the (nc, nc) confusion matrix."""
        cm = np.asarray(matrix, dtype=np.float64)
        self.matrix = cm
        tp = np.diag(cm)
        gt, pred = cm.sum(1), cm.sum(0)
        fp, fn = pred - tp, gt - tp
        n = cm.sum()
        self.counted = (tp + fp + fn) > 0
        self.per_class = {
            "IoU": _ratio(tp, tp + fp + fn, self.counted),
            "Dice": _ratio(2 * tp, 2 * tp + fp + fn, self.counted),
            "precision": _ratio(tp, tp + fp, self.counted),
            "recall": _ratio(tp, tp + fn, self.counted),
            "MCR": _ratio(fp + fn, np.full_like(tp, n), self.counted),
        }
        self.means = {k: float(np.nanmean(v)) if self.counted.any() else 0.0 for k, v in self.per_class.items()}
        self.pixels = gt
        self.aAcc = float(tp.sum() / n) if n else 0.0
        self.fwIoU = float(np.nansum(gt / n * np.nan_to_num(self.per_class["IoU"]))) if n else 0.0

    @property
    def IoU(self) -> float:  # noqa: N802 (the metrics' usual names, as users write them)
        """Mean IoU over the counted classes."""
        return self.means["IoU"]

    @property
    def DiceScore(self) -> float:  # noqa: N802
        """Mean Dice score over the counted classes."""
        return self.means["Dice"]

    @property
    def precision(self) -> float:
        """Mean precision over the counted classes."""
        return self.means["precision"]

    @property
    def recall(self) -> float:
        """Mean recall over the counted classes."""
        return self.means["recall"]

    @property
    def MCR(self) -> float:  # noqa: N802
        """Mean misclassification rate over the counted classes (lower is better)."""
        return self.means["MCR"]

    @property
    def mAcc(self) -> float:  # noqa: N802
        """Mean class accuracy: the same number as `recall`."""
        return self.recall


class SemSegMetrics(SimpleClass, DataExportMixin):
    """Accumulate an `nc x nc` confusion matrix over a whole dataset and report the metric suite.

    Pixels whose ground truth is 255 (ignore) are excluded everywhere. Accumulation stays on the model's device with
    one `bincount` per image. `process()` computes the scores once (the validator calls it when the dataset is done);
    reading `semseg` after an `update()` computes them again. Like Ultralytics' metrics classes, `summary()` gives one
    row per class and `to_df()`, `to_csv()` and `to_json()` export it (Ultralytics' `DataExportMixin`).

    Attributes:
        matrix (torch.Tensor): Confusion matrix of pixel counts (int64), rows = ground truth.
        semseg (SemSegScores): Means, per-class arrays and the matrix of everything added so far.

    Examples:
        >>> m = SemSegMetrics({0: "road", 1: "car"})
        >>> m.update(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 255]]))
        >>> round(m.semseg.IoU, 4), round(m.semseg.aAcc, 4)
        (0.5, 0.6667)
        >>> m.summary()[1]["IoU"], m.to_df().shape
        (0.5, (2, 9))
    """

    def __init__(self, names: dict[int, str]):
        """Start an empty confusion matrix for the classes in `names` ({id: name})."""
        self.names = names
        self.nc = len(names)
        self.matrix = torch.zeros(self.nc, self.nc, dtype=torch.int64)
        self.images_per_class = torch.zeros(self.nc, dtype=torch.int64)  # images with ground truth of the class
        self.speed = {}
        self._scores = None  # SemSegScores of the current matrix, None after an update

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """Add one class map and its ground truth (same shape, any integer dtype); see `confusion_counts`."""
        counts = confusion_counts(pred, target, self.nc)
        if self.matrix.device != counts.device:
            self.matrix = self.matrix.to(counts.device)
            self.images_per_class = self.images_per_class.to(counts.device)
        self.matrix += counts
        self.images_per_class += counts.sum(1) > 0
        self._scores = None

    def process(self) -> SemSegScores:
        """Compute every score from the confusion matrix; `semseg` returns them until the next `update()`."""
        self._scores = SemSegScores(self.matrix.cpu().numpy())
        return self._scores

    @property
    def semseg(self) -> SemSegScores:
        """The scores of everything added so far (computed by `process()`, or here on first read after an update)."""
        return self._scores if self._scores is not None else self.process()

    # Shortcuts kept for the trainer and for Ultralytics-style access
    @property
    def miou(self) -> float:
        """Mean IoU, the fitness of the semseg task."""
        return self.semseg.IoU

    @property
    def keys(self) -> list[str]:
        """The metric keys of `results_dict` (without 'fitness')."""
        return [*MEAN_KEYS, "metrics/aAcc", "metrics/fwIoU"]

    @property
    def fitness(self) -> float:
        """The number Ultralytics picks the best checkpoint by: mean IoU."""
        return self.miou

    def summary(self, normalize: bool = True, decimals: int = 5) -> list[dict[str, Any]]:
        """One row per class: images and pixels with ground truth, predicted pixels, IoU, Dice, precision, recall, MCR.

        Scores of a class without ground-truth or predicted pixels are None (it enters no mean, see the module doc).

        Args:
            normalize (bool): Kept for the signature of Ultralytics' `summary` (scores are always fractions).
            decimals (int): Decimal places of the scores.

        Returns:
            (list[dict[str, Any]]): Rows with keys Class, Images, Pixels, Predicted, IoU, Dice, Precision, Recall, MCR.
        """
        s = self.semseg
        images = self.images_per_class.cpu().numpy()
        predicted = s.matrix.sum(0)

        def score(v: float):
            return None if np.isnan(v) else round(float(v), decimals)

        return [
            {
                "Class": name,
                "Images": int(images[c]),
                "Pixels": int(s.pixels[c]),
                "Predicted": int(predicted[c]),
                **{m.title: score(s.per_class[m.name][c]) for m in CLASS_METRICS},
            }
            for c, name in self.names.items()
        ]

    @property
    def results_dict(self) -> dict[str, float]:
        """Every reported metric by its key, plus 'fitness', as Ultralytics' trainer logs them."""
        s = self.semseg
        means = {k: s.means[v] for k, v in MEAN_KEYS.items()}
        return {**means, "metrics/aAcc": s.aAcc, "metrics/fwIoU": s.fwIoU, "fitness": means["metrics/mIoU"]}
