"""Parity of SemSegMetrics with torchmetrics' multiclass metrics on random and adversarial inputs.

Conventions compared explicitly:
- A class absent from both ground truth and prediction is NaN in our per-class arrays; torchmetrics gives 0 for it
  (`zero_division=0`, its default, passed explicitly).
- For a counted class (ground-truth or predicted pixels) a 0/0 ratio is 0 in both.
- Our means are the nanmean of our per-class arrays, i.e. the mean over counted classes, which is also what
  torchmetrics' `average='macro'` computes (it gives weight 0 to classes with TP + FP + FN = 0).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import torch

tmc = pytest.importorskip("torchmetrics.classification")

from ultralytics_semseg.utils.metrics import SemSegMetrics, SemSegScores  # noqa: E402

IGNORE = 255
ATOL = 1e-6
TM_CLASSES = {  # our per-class key -> torchmetrics class
    "IoU": tmc.MulticlassJaccardIndex,
    "Dice": tmc.MulticlassF1Score,
    "precision": tmc.MulticlassPrecision,
    "recall": tmc.MulticlassRecall,
}
MEAN_ATTRS = {"IoU": "IoU", "Dice": "DiceScore", "precision": "precision", "recall": "recall"}

Pair = tuple[np.ndarray, np.ndarray]  # (prediction, ground truth), same (H, W) shape
Case = tuple[int, list[Pair]]  # (nc, pairs)

_max_diff = [0.0]  # largest |ours - torchmetrics| seen in this module, reported at the end


# ----------------------------------------------------------------------------------------------------------- inputs
def _noisy_pred(rng: np.random.Generator, target: np.ndarray, classes: np.ndarray, p_ok: float = 0.6) -> np.ndarray:
    """Prediction that copies the valid ground truth with probability p_ok, else a random class of `classes`."""
    noise = rng.choice(classes, target.shape)
    keep = (rng.random(target.shape) < p_ok) & (target != IGNORE)
    return np.where(keep, target, noise)


def _random_pairs(rng: np.random.Generator, nc: int, n: int, max_hw=(48, 48), ignore: float = 0.1) -> list[Pair]:
    """n images of random sizes with random labels in 0..nc-1, a share of ignore pixels and noisy predictions."""
    pairs = []
    for _ in range(n):
        shape = (int(rng.integers(1, max_hw[0] + 1)), int(rng.integers(1, max_hw[1] + 1)))
        target = rng.integers(0, nc, shape)
        target[rng.random(shape) < ignore] = IGNORE
        pairs.append((_noisy_pred(rng, target, np.arange(nc)), target))
    return pairs


def _case_random_nc5() -> Case:
    return 5, _random_pairs(np.random.default_rng(1), 5, 30)


def _case_random_nc19() -> Case:
    return 19, _random_pairs(np.random.default_rng(2), 19, 12, max_hw=(64, 128), ignore=0.05)


def _case_empty_classes() -> Case:
    """Classes 1, 3, 4 and 6 never occur, neither in the ground truth nor in the predictions."""
    rng, used = np.random.default_rng(3), np.array([0, 2, 5])
    pairs = []
    for _ in range(15):
        target = used[rng.integers(0, 3, (20, 30))]
        target[rng.random(target.shape) < 0.1] = IGNORE
        pairs.append((_noisy_pred(rng, target, used), target))
    return 7, pairs


def _case_all_ignore_mixed() -> Case:
    """Fully ignored images (whose predictions, all class 3, must not count) alternate with normal ones."""
    rng, normal = np.random.default_rng(4), np.arange(3)
    pairs = []
    for i in range(12):
        if i % 2:
            pairs.append((np.full((16, 24), 3), np.full((16, 24), IGNORE)))
        else:
            target = rng.integers(0, 3, (16, 24))
            pairs.append((_noisy_pred(rng, target, normal), target))
    return 4, pairs


def _case_pred_only_class() -> Case:
    """Class 3 is predicted but never in the ground truth: counted, IoU = precision = recall = 0."""
    rng = np.random.default_rng(5)
    pairs = []
    for _ in range(10):
        target = rng.integers(0, 3, (12, 40))
        target[:, :2] = IGNORE
        pairs.append((_noisy_pred(rng, target, np.arange(4), p_ok=0.7), target))
    return 4, pairs


def _case_gt_only_class() -> Case:
    """Class 3 is in the ground truth but never predicted: counted, precision 0/0 -> 0."""
    rng = np.random.default_rng(6)
    pairs = []
    for _ in range(10):
        target = rng.integers(0, 4, (33, 17))
        target[rng.random(target.shape) < 0.1] = IGNORE
        pred = _noisy_pred(rng, target, np.arange(4))
        pairs.append((np.where(pred == 3, 0, pred), target))
    return 4, pairs


def _case_single_pixel() -> Case:
    """Many 1x1 images, some of them ignore."""
    rng = np.random.default_rng(7)
    pairs = []
    for _ in range(40):
        target = np.array([[IGNORE if rng.random() < 0.2 else rng.integers(0, 3)]])
        pairs.append((rng.integers(0, 3, (1, 1)), target))
    return 3, pairs


def _case_nc2_perfect() -> Case:
    rng = np.random.default_rng(8)
    pairs = []
    for target in (rng.integers(0, 2, (9, 13)) for _ in range(6)):
        target[rng.random(target.shape) < 0.3] = IGNORE
        pairs.append((np.where(target == IGNORE, 1, target), target))  # predictions under ignore must not count
    return 2, pairs


def _case_nc2_constant_pred() -> Case:
    rng = np.random.default_rng(9)
    return 2, [(np.zeros((10, 10), np.int64), rng.integers(0, 2, (10, 10))) for _ in range(5)]


def _case_nc3_all_ignore() -> Case:
    """Nothing valid at all: no class counted; our per-class arrays are all NaN, our means 0."""
    return 3, [(np.full((5, 7), c), np.full((5, 7), IGNORE)) for c in range(3)]


def _case_nc3_one_class() -> Case:
    """Ground truth and prediction are all class 1: classes 0 and 2 are absent."""
    return 3, [(np.ones((6, 4), np.int64), np.ones((6, 4), np.int64)) for _ in range(3)]


CASES: dict[str, Callable[[], Case]] = {
    "random_nc5": _case_random_nc5,
    "random_nc19": _case_random_nc19,
    "empty_classes": _case_empty_classes,
    "all_ignore_mixed": _case_all_ignore_mixed,
    "pred_only_class": _case_pred_only_class,
    "gt_only_class": _case_gt_only_class,
    "single_pixel": _case_single_pixel,
    "nc2_perfect": _case_nc2_perfect,
    "nc2_constant_pred": _case_nc2_constant_pred,
    "nc3_all_ignore": _case_nc3_all_ignore,
    "nc3_one_class": _case_nc3_one_class,
}


# ------------------------------------------------------------------------------------------------------ computations
def _ours(nc: int, pairs: list[Pair]) -> SemSegMetrics:
    """Accumulate our metrics image by image, alternating uint8 maps (as the validator gives) and int64 ones."""
    m = SemSegMetrics({i: str(i) for i in range(nc)})
    for i, (pred, target) in enumerate(pairs):
        dtype = torch.uint8 if i % 2 else torch.int64
        m.update(torch.from_numpy(pred.astype(np.int64)).to(dtype), torch.from_numpy(target.astype(np.int64)).to(dtype))
    return m


def _torchmetrics(nc: int, pairs: list[Pair], average: str) -> dict[str, np.ndarray]:
    """IoU, Dice, precision and recall of torchmetrics, each metric object updated once per image."""
    metrics = {
        k: cls(num_classes=nc, average=average, ignore_index=IGNORE, zero_division=0) for k, cls in TM_CLASSES.items()
    }
    for pred, target in pairs:
        p, t = torch.from_numpy(pred.astype(np.int64))[None], torch.from_numpy(target.astype(np.int64))[None]
        for metric in metrics.values():
            metric.update(p, t)
    return {k: metric.compute().double().numpy() for k, metric in metrics.items()}


def _tm_accuracy(nc: int, pairs: list[Pair]) -> float:
    """torchmetrics' micro-averaged accuracy (pixel accuracy over non-ignored pixels)."""
    acc = tmc.MulticlassAccuracy(num_classes=nc, average="micro", ignore_index=IGNORE)
    for pred, target in pairs:
        acc.update(torch.from_numpy(pred.astype(np.int64))[None], torch.from_numpy(target.astype(np.int64))[None])
    return float(acc.compute())


def _counts(nc: int, pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """TP, FP, FN per class and the number of valid pixels, counted pixel by pixel with numpy comparisons."""
    tp, fp, fn, n = np.zeros(nc), np.zeros(nc), np.zeros(nc), 0
    for pred, target in pairs:
        valid = target != IGNORE
        p, t = pred[valid], target[valid]
        n += int(valid.sum())
        for c in range(nc):
            tp[c] += np.sum((p == c) & (t == c))
            fp[c] += np.sum((p == c) & (t != c))
            fn[c] += np.sum((p != c) & (t == c))
    return tp, fp, fn, n


def _check_close(ours: float | np.ndarray, theirs: float | np.ndarray, what: str) -> None:
    """Assert |ours - theirs| <= ATOL everywhere and remember the largest difference."""
    diff = float(np.max(np.abs(np.asarray(ours, np.float64) - np.asarray(theirs, np.float64)), initial=0.0))
    _max_diff[0] = max(_max_diff[0], diff)
    assert diff <= ATOL, f"{what}: |ours - torchmetrics| = {diff:.3g}\nours   {ours}\ntheirs {theirs}"


@pytest.fixture(scope="module", autouse=True)
def _report_max_diff(request: pytest.FixtureRequest):
    """Print the largest difference seen once the module is done (shown even with output capture on)."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\ntest_metric_parity: largest |ours - torchmetrics| = {_max_diff[0]:.3g}")


# ------------------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("case", list(CASES))
def test_per_class_matches_torchmetrics(case: str):
    nc, pairs = CASES[case]()
    ours = _ours(nc, pairs).semseg
    theirs = _torchmetrics(nc, pairs, "none")
    tp, fp, fn, _ = _counts(nc, pairs)
    counted = tp + fp + fn > 0
    np.testing.assert_array_equal(ours.counted, counted)
    for key, values in theirs.items():
        mine = ours.per_class[key]
        assert mine.shape == values.shape == (nc,)
        np.testing.assert_array_equal(np.isnan(mine), ~counted, err_msg=f"{key}: NaN exactly for absent classes")
        np.testing.assert_array_equal(values[~counted], 0.0, err_msg=f"{key}: where ours is NaN, torchmetrics is 0")
        _check_close(mine[counted], values[counted], f"{case} per-class {key}")


@pytest.mark.parametrize("case", list(CASES))
def test_means_match_torchmetrics(case: str):
    nc, pairs = CASES[case]()
    metrics = _ours(nc, pairs)
    ours = metrics.semseg
    per_class, macro = _torchmetrics(nc, pairs, "none"), _torchmetrics(nc, pairs, "macro")
    counted = ours.counted
    for key, attr in MEAN_ATTRS.items():
        mean = getattr(ours, attr)
        assert mean == (np.nanmean(ours.per_class[key]) if counted.any() else 0.0)
        _check_close(mean, per_class[key][counted].mean() if counted.any() else 0.0, f"{case} mean {key}")
        if counted.any():
            _check_close(mean, macro[key], f"{case} mean {key} vs macro")
        else:  # nothing counted: ours 0; torchmetrics' macro gives 0 (F1, precision, recall) or NaN (Jaccard, 0/0)
            assert mean == 0.0 and (macro[key] == 0.0 or np.isnan(macro[key])), (key, macro[key])
    assert metrics.results_dict["metrics/mIoU"] == ours.IoU == metrics.fitness


@pytest.mark.parametrize("case", list(CASES))
def test_mcr_and_pixel_accuracy(case: str):
    nc, pairs = CASES[case]()
    ours = _ours(nc, pairs).semseg
    tp, fp, fn, n = _counts(nc, pairs)
    counted = tp + fp + fn > 0
    expected = np.where(counted, (fp + fn) / max(n, 1), np.nan)
    np.testing.assert_allclose(ours.per_class["MCR"], expected, rtol=0, atol=1e-12, equal_nan=True)
    assert abs(ours.MCR - (expected[counted].mean() if counted.any() else 0.0)) <= 1e-12
    assert ours.aAcc == pytest.approx(tp.sum() / n if n else 0.0, abs=1e-12)
    _check_close(ours.aAcc, _tm_accuracy(nc, pairs), f"{case} aAcc")


def test_single_class_dataset():
    """nc = 1 (torchmetrics needs >= 2 classes): ours equals torchmetrics run with an extra class that never occurs."""
    rng = np.random.default_rng(10)
    pairs = []
    for _ in range(8):
        target = np.zeros((int(rng.integers(1, 20)), int(rng.integers(1, 20))), np.int64)
        target[rng.random(target.shape) < 0.3] = IGNORE
        pairs.append((np.zeros_like(target), target))
    ours = _ours(1, pairs).semseg
    theirs = _torchmetrics(2, pairs, "none")
    for key, values in theirs.items():
        assert ours.per_class[key].shape == (1,) and values[1] == 0.0  # the extra class: absent, 0 in torchmetrics
        _check_close(ours.per_class[key], values[:1], f"nc=1 {key}")
        assert getattr(ours, MEAN_ATTRS[key]) == 1.0
    assert ours.per_class["MCR"][0] == 0.0 and ours.aAcc == 1.0


def test_dataset_level_not_image_average():
    """One dataset-level matrix: a tiny perfect image must not weigh as much as a large wrong one."""
    pairs = [
        (np.zeros((1, 1), np.int64), np.zeros((1, 1), np.int64)),
        (np.ones((10, 10), np.int64), np.zeros((10, 10), np.int64)),
    ]
    ours = _ours(2, pairs).semseg
    _check_close(ours.per_class["IoU"], _torchmetrics(2, pairs, "none")["IoU"], "dataset-level IoU")
    assert ours.per_class["IoU"][0] == pytest.approx(1 / 101) and ours.per_class["IoU"][1] == 0.0
    np.testing.assert_array_equal(SemSegScores(ours.matrix).per_class["IoU"], ours.per_class["IoU"])
