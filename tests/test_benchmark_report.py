"""The benchmark's summaries (benchmarks/report.py, benchmarks/pretrain_seeds.py) compute what their tables claim.

Run JSONs are written by hand here, so every expected number can be checked by eye.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
report = pytest.importorskip("report")  # plain modules of benchmarks/, importable once on the path
pretrain_seeds = pytest.importorskip("pretrain_seeds")

CAMVID_CLASSES = ("sky", "pole", "sign", "pedestrian")


def _run(contender: str, seed: int, miou: float, thin: tuple[float, float, float], dataset: str = "camvid") -> dict:
    pole, sign, pedestrian = thin
    per_class = {"sky": 0.9, "pole": pole, "sign": sign, "pedestrian": pedestrian}
    return {"dataset": dataset, "contender": contender, "seed": seed, "mIoU": miou, "per_class_IoU": per_class}


def test_thin_iou_is_the_mean_over_the_datasets_thin_classes_and_counts_missing_as_zero():
    """Pole, sign and pedestrian are averaged on CamVid; a class absent from the split (None) counts as 0 IoU."""
    assert report.thin_iou(_run("ours", 0, 0.5, (0.0, 0.3, 0.6))["per_class_IoU"], "camvid") == pytest.approx(0.3)
    assert report.thin_iou(_run("ours", 0, 0.5, (None, 0.3, 0.6))["per_class_IoU"], "camvid") == pytest.approx(0.3)
    assert (
        report.thin_iou(_run("ours", 0, 0.5, (0.1, 0.1, 0.1), dataset="roads")["per_class_IoU"], "roads") is None
    )  # no thin classes


def test_thin_table_reports_mean_and_sample_std_over_seeds_in_percent():
    runs = [_run("ours", s, 0.5, (0.0, v, 0.0)) for s, v in enumerate((0.03, 0.06, 0.09))]  # thin 1, 2, 3 %
    row = report.thin_table(runs).splitlines()[-1]
    assert row == "| camvid | pole, sign, pedestrian | 2.0 ± 1.0 |"


def test_pretrain_seeds_summary_averages_fine_tuning_seeds_then_spreads_over_pretraining_seeds(tmp_path, monkeypatch):
    """Per start the mean over fine-tuning seeds; per backbone mean ± std over pretraining seeds; the verdict."""
    starts = {"yolo11n": {0: "a0", 1: "a1", 2: "a2"}, "yolo26n": {0: "b0", 1: "b1", 2: "b2"}}
    monkeypatch.setattr(pretrain_seeds, "STARTS", starts)
    start_miou = {"a0": 0.40, "a1": 0.42, "a2": 0.44, "b0": 0.50, "b1": 0.51, "b2": 0.52}
    for name, miou in start_miou.items():
        for seed, offset in zip(pretrain_seeds.FINETUNE_SEEDS, (-0.01, 0.0, 0.01)):  # fine-tuning seeds average out
            run = _run(name, seed, miou + offset, (0.0, miou, 0.0))  # thin = mIoU / 3
            (tmp_path / f"camvid__{name}__s{seed}.json").write_text(json.dumps(run))
    text = pretrain_seeds.render(tmp_path)
    assert "| yolo11n (`a1`) | 1 | 3 | 42.0 | 14.0 |" in text
    assert "| **yolo11n, over pretraining seeds** | 3 | | **42.0 ± 2.0** | **14.0 ± 0.7** |" in text
    assert "| **yolo26n, over pretraining seeds** | 3 | | **51.0 ± 1.0** | **17.0 ± 0.3** |" in text
    assert "mIoU +9.0 (win), thin +3.0 (win)" in text
