"""Confusion-matrix metrics against a direct per-pixel computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ultralytics_semseg.utils.metrics import SemSegMetrics, confusion_counts


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
    s = m.semseg
    np.testing.assert_allclose(s.per_class["IoU"], iou, atol=1e-12)
    assert abs(s.IoU - np.nanmean(iou)) < 1e-12 and abs(s.aAcc - acc) < 1e-12
    assert s.per_class["IoU"][4] == 0.0 and s.per_class["recall"][4] == 0.0  # predicted only: counted, 0/0 -> 0
    assert int(m.matrix.sum()) == sum(int((g != 255).sum()) for g in gts)


def test_absent_class_is_excluded_and_all_ignore_is_safe():
    m = SemSegMetrics({0: "a", 1: "b", 2: "c"})
    m.update(torch.zeros(4, 4, dtype=torch.long), torch.full((4, 4), 255))
    assert m.semseg.IoU == 0.0 and m.semseg.aAcc == 0.0  # nothing valid yet
    m.update(torch.tensor([[0, 1]]), torch.tensor([[0, 1]]))
    s = m.semseg
    assert all(np.isnan(v[2]) for v in s.per_class.values()) and s.IoU == 1.0 and s.MCR == 0.0
    assert m.results_dict == {
        "metrics/mIoU": 1.0,
        "metrics/mDice": 1.0,
        "metrics/mPrecision": 1.0,
        "metrics/mRecall": 1.0,
        "metrics/mMCR": 0.0,
        "metrics/aAcc": 1.0,
        "metrics/fwIoU": 1.0,
        "fitness": 1.0,
    }
    assert m.images_per_class.tolist() == [1, 1, 0]


def test_metric_definitions_on_a_known_matrix():
    """Hand-computed values: rows = ground truth, columns = prediction."""
    from ultralytics_semseg.utils.metrics import SemSegScores

    s = SemSegScores(np.array([[50, 10, 0], [5, 30, 5], [0, 0, 0]]))  # class 2: predicted 5 times, no GT
    tp, fp, fn = np.array([50, 30, 0]), np.array([5, 10, 5]), np.array([10, 10, 0])
    np.testing.assert_allclose(s.per_class["IoU"], tp / (tp + fp + fn))
    np.testing.assert_allclose(s.per_class["Dice"], 2 * tp / (2 * tp + fp + fn))
    np.testing.assert_allclose(s.per_class["precision"], tp / (tp + fp))
    np.testing.assert_allclose(s.per_class["recall"], [50 / 60, 30 / 40, 0.0])
    np.testing.assert_allclose(s.per_class["MCR"], (fp + fn) / 100)
    assert s.aAcc == 0.8 and s.mAcc == s.recall
    assert abs(s.fwIoU - (0.6 * 50 / 65 + 0.4 * 30 / 50)) < 1e-12


@pytest.mark.parametrize("nc", [5, 300])
def test_gpu_counting_path_matches_bincount(nc):
    """The sync-free counting used off the CPU gives the same matrix as the CPU `bincount` (ignore, ids >= nc)."""
    g = torch.Generator().manual_seed(nc)
    target = torch.randint(0, nc + 3, (37, 41), generator=g)
    target[torch.rand(37, 41, generator=g) < 0.2] = 255
    target[target == 255] = 255 if nc < 255 else nc + 1  # ignore, or an id past the classes
    pred = torch.randint(0, nc, (37, 41), generator=g)
    cpu = confusion_counts(pred, target, nc, sync_free=False)
    assert torch.equal(confusion_counts(pred, target, nc, sync_free=True), cpu)
    assert int(cpu.sum()) == int((target < nc).sum())  # 255 is ignore below 256 classes, a class above


def test_update_off_the_cpu_needs_no_data_dependent_shapes():
    """Off the CPU, `update` must not use ops whose output size depends on the data (`bincount`, boolean indexing),
    which read a value back to the host once per image; on the meta device such ops cannot run at all."""
    m = SemSegMetrics({i: str(i) for i in range(4)})
    m.update(torch.zeros(8, 8, dtype=torch.uint8, device="meta"), torch.zeros(8, 8, dtype=torch.uint8))
    assert m.matrix.device.type == "meta" and m.matrix.shape == (4, 4)


def test_validator_moves_original_masks_with_the_batch():
    """The original-size masks travel to the device in `preprocess` (async from pinned memory), not one blocking copy
    per image inside the metrics; the meta device stands in for a GPU."""
    from ultralytics_semseg.models.val import SemSegValidator

    v = SemSegValidator(args={"task": "semseg", "half": False})
    v.device = torch.device("meta")
    batch = {
        "img": torch.zeros(2, 3, 32, 32, dtype=torch.uint8),
        "semseg_mask": torch.zeros(2, 32, 32, dtype=torch.uint8),
        "ori_mask": [torch.zeros(20, 30, dtype=torch.uint8), torch.zeros(40, 10, dtype=torch.uint8)],
        "ori_shape": [(20, 30), (40, 10)],
        "ratio_pad": [None, None],
    }
    out = v.preprocess(batch)
    assert {t.device.type for t in (out["img"], out["semseg_mask"], *out["ori_mask"])} == {"meta"}
    assert [tuple(m.shape) for m in out["ori_mask"]] == [(20, 30), (40, 10)]


def test_one_list_of_class_metrics_drives_every_table():
    from ultralytics_semseg.models.val import SemSegValidator
    from ultralytics_semseg.utils.metrics import CLASS_METRICS, SemSegMetrics

    m = SemSegMetrics({0: "road", 1: "car"})
    m.update(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 0], [1, 255]]))
    s = m.semseg
    assert list(s.per_class) == [c.name for c in CLASS_METRICS]
    assert list(m.results_dict) == [c.mean_key for c in CLASS_METRICS] + ["metrics/aAcc", "metrics/fwIoU", "fitness"]
    assert m.keys == list(m.results_dict)[:-1]
    for c in CLASS_METRICS:
        assert m.results_dict[c.mean_key] == s.means[c.name]
    row = m.summary()[1]
    assert list(row)[4:] == [c.title for c in CLASS_METRICS]
    assert row["MCR"] == round(float(s.per_class["MCR"][1]), 5)
    desc = SemSegValidator.get_desc(None).split()
    assert desc[3:] == [c.header for c in CLASS_METRICS] and desc[-1] == "MCR(↓)"
