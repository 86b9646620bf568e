"""Confusion-matrix metrics against a direct per-pixel computation."""

from __future__ import annotations

import numpy as np
import torch

from ultralytics_semseg.utils.metrics import SemSegMetrics


def _reference(preds, gts, nc):
    tp, fp, fn = np.zeros(nc), np.zeros(nc), np.zeros(nc)
    for p, g in zip(preds, gts):
        valid = g != 255
        p, g = p[valid], g[valid]
        for c in range(nc):
            tp[c] += np.sum((p == c) & (g == c))
            fp[c] += np.sum((p == c) & (g != c))
            fn[c] += np.sum((p != c) & (g == c))
    union = tp + fp + fn
    iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    return iou, tp.sum() / (tp + fn).sum()


def test_matches_direct_computation():
    rng = np.random.default_rng(0)
    nc = 5
    m = SemSegMetrics({i: str(i) for i in range(nc)})
    preds, gts = [], []
    for shape in [(17, 31), (40, 8), (1, 1), (64, 64)]:
        g = rng.integers(0, nc - 1, shape)  # class 4 never in the ground truth ...
        g[rng.random(shape) < 0.2] = 255
        p = rng.integers(0, nc, shape)  # ... but predicted: it counts (union > 0) with IoU 0
        preds.append(p)
        gts.append(g)
        m.update(torch.from_numpy(p), torch.from_numpy(g).to(torch.uint8))
    iou, acc = _reference(preds, gts, nc)
    np.testing.assert_allclose(m.iou_per_class, iou, atol=1e-12)
    assert abs(m.miou - np.nanmean(iou)) < 1e-12 and abs(m.pixel_acc - acc) < 1e-12
    assert m.iou_per_class[4] == 0.0
    assert int(m.matrix.sum()) == sum(int((g != 255).sum()) for g in gts)


def test_absent_class_is_excluded_and_all_ignore_is_safe():
    m = SemSegMetrics({0: "a", 1: "b", 2: "c"})
    m.update(torch.zeros(4, 4, dtype=torch.long), torch.full((4, 4), 255))
    assert m.miou == 0.0 and m.pixel_acc == 0.0  # nothing valid yet
    m.update(torch.tensor([[0, 1]]), torch.tensor([[0, 1]]))
    assert np.isnan(m.iou_per_class[2]) and m.miou == 1.0
    assert m.results_dict == {"metrics/mIoU": 1.0, "metrics/pixel_acc": 1.0, "fitness": 1.0}
