"""Ultralytics workflows around a trained semseg model: tuning (built-in tuner and Ray Tune), benchmark, supervision,
and the metrics' export methods."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets
from ultralytics_semseg.engine.tuner import SEMSEG_SPACE


@pytest.fixture(scope="module")
def tiny_data(root) -> str:
    """16 train + 4 val generated street scenes of 64x128: enough for one-epoch tuning trials."""
    path = generate_synthetic_streets(root / "datasets" / "tiny-streets", n_train=16, n_val=4, height=64, width=128)
    f = root / "tiny-streets.yaml"
    names = dict(STREET_NAMES)
    f.write_text(
        yaml.safe_dump(
            {"path": str(path), "train": "images/train", "val": "images/val", "masks_dir": "masks", "names": names}
        )
    )
    return str(f)


@pytest.fixture(scope="module")
def weights(trained_run) -> str:
    return str(trained_run / "weights" / "best.pt")


def test_python_m_ultralytics_cfg_knows_semseg():
    """How Ultralytics' tuner starts trials (`_YOLO_CLI_COMMAND`): `cfg/__init__.py` re-run as `__main__` used to be
    a copy without the semseg task ("Invalid 'task=semseg'")."""
    import subprocess

    from ultralytics.cfg import _YOLO_CLI_COMMAND

    assert _YOLO_CLI_COMMAND[1:] == ["-m", "ultralytics.cfg.__init__"]  # what registry.cfg_main_code answers for
    cmd = [*_YOLO_CLI_COMMAND, "train", "task=semseg", "model=nonexistent-semseg.yaml"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = p.stdout + p.stderr
    assert "Invalid 'task=semseg'" not in out and "nonexistent-semseg.yaml" in out, out[-2000:]


TUNE_ARGS = dict(epochs=1, iterations=2, imgsz=64, batch=8, workers=0, plots=False)


def test_tuner_trials_train_with_semseg_defaults_and_space(tiny_data, root):
    """Ultralytics starts each trial as `python -m ultralytics.cfg.__init__ train task=semseg ...` in a fresh
    interpreter; both trials must train (not fail on the task) with the semseg defaults plus the mutated values."""
    from ultralytics import YOLO

    YOLO("yolo11n-semseg.yaml").tune(data=tiny_data, project=str(root / "tune"), name="evolve", **TUNE_ARGS)
    rows = [json.loads(x) for x in (root / "tune" / "evolve" / "tune_results.ndjson").read_text().splitlines()]
    assert len(rows) == 2 and not any(r.get("failed_datasets") for r in rows), rows
    assert rows[0]["hyperparameters"] != rows[1]["hyperparameters"]  # the second trial is a mutation
    for r in rows:
        assert set(r["hyperparameters"]) == set(SEMSEG_SPACE)  # no box, dfl, mosaic ...
        (metrics,) = r["datasets"].values()
        assert 0 <= metrics["metrics/mIoU"] <= 1 and metrics["fitness"] == metrics["metrics/mIoU"] == r["fitness"]
    best = max(rows, key=lambda r: r["fitness"])  # the other trial's run folder is cleaned up by the tuner
    (save_dir,) = best["save_dirs"].values()
    args = yaml.safe_load((Path(save_dir) / "args.yaml").read_text())
    assert args["task"] == "semseg" and args["nbs"] == 16 and args["mosaic"] == 0 and args["cos_lr"] is True
    assert args["optimizer"] == "AdamW" and all(args[k] == v for k, v in best["hyperparameters"].items())


def test_ray_tune_two_trials(tiny_data, root):
    """Ray Tune trains in its own worker processes (task registered there by the import hook) on the semseg space."""
    pytest.importorskip("ray.tune")
    from ultralytics import YOLO

    results = YOLO("yolo11n-semseg.yaml").tune(
        use_ray=True, search_alg="random", grace_period=1, data=tiny_data, project=str(root / "tune"), name="ray",
        **TUNE_ARGS,
    )  # fmt: skip
    assert len(results) == 2 and all(r.error is None for r in results)
    for r in results:
        assert 0 <= r.metrics["metrics/mIoU"] <= 1
        assert set(r.config) - {"data"} <= set(SEMSEG_SPACE) and "mosaic" not in r.config
        for lo_hi_key in ("lr0", "cls_pw"):
            assert SEMSEG_SPACE[lo_hi_key][0] <= r.config[lo_hi_key] <= SEMSEG_SPACE[lo_hi_key][1]


def test_benchmark_reports_miou(weights, toy_data, tmp_path, monkeypatch):
    """`benchmark` exports, predicts and validates a format; NCNN used to fail (❎) for semseg."""
    from ultralytics import YOLO

    monkeypatch.chdir(tmp_path)  # benchmark() writes benchmarks.log into the working directory
    from ultralytics.utils.benchmarks import benchmark

    df = benchmark(model=weights, data="synthetic-streets.yaml", imgsz=128, format="ncnn", verbose=False)
    row = df.row(0, named=True)
    metric = next(v for k, v in row.items() if "mIoU" in k)
    assert row["Status❔"] == "✅" and metric is not None, row
    ref = YOLO(weights).val(data="synthetic-streets.yaml", imgsz=128, batch=1, rect=False, plots=False, verbose=False)
    assert abs(float(metric) - ref.semseg.IoU) < 0.002, (metric, ref.semseg.IoU)


@pytest.mark.parametrize("return_conf", [False, True])
def test_supervision_reads_class_ids_names_and_confidence(weights, toy_data, return_conf):
    sv = pytest.importorskip("supervision")
    from ultralytics import YOLO

    from ultralytics_semseg.engine.results import SemSegResults

    img = sorted((toy_data["path"] / "images" / "val").glob("*.jpg"))[0]
    pred = YOLO(weights)(str(img), return_conf=return_conf, verbose=False)[0]
    # The conversion is what is tested, not the 2-epoch model (which may predict one class only): the result carries
    # the image's ground-truth class map, with the model's real confidence map.
    truth = cv2.imread(str(toy_data["path"] / "masks" / "val" / f"{img.stem}.png"), cv2.IMREAD_UNCHANGED)
    conf = pred.semseg.conf if return_conf else None
    r = SemSegResults(pred.orig_img, pred.path, pred.names, semseg=torch.from_numpy(truth), conf=conf)
    classmap = r.semseg.data.numpy()
    ids = [c for c in np.unique(classmap) if c != 255]
    d = sv.Detections.from_ultralytics(r)
    assert d.class_id.tolist() == ids and len(ids) > 1
    assert d.data["class_name"].tolist() == [r.names[c] for c in ids]
    for mask, c, box, conf in zip(d.mask, d.class_id, d.xyxy, d.confidence):
        assert np.array_equal(mask, classmap == c)
        ys, xs = np.nonzero(mask)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        expected = r.semseg.conf.numpy()[mask].mean() if return_conf else 1.0
        assert conf == pytest.approx(expected, abs=1e-5)
    annotated = sv.MaskAnnotator().annotate(r.orig_img.copy(), d)
    assert annotated.shape == r.orig_img.shape and (annotated != r.orig_img).any()
    assert torch.equal(r.boxes.cls.long(), r.masks.cls) and len(r) == 1  # Ultralytics' own API unchanged


def test_metrics_summary_and_exports(weights, toy_data):
    from ultralytics import YOLO

    metrics = YOLO(weights).val(data="synthetic-streets.yaml", imgsz=128, batch=8, plots=False, verbose=False)
    s, names = metrics.semseg, metrics.names
    rows = metrics.summary()
    assert [r["Class"] for r in rows] == list(names.values())
    assert list(rows[0]) == ["Class", "Images", "Pixels", "Predicted", "IoU", "Dice", "Precision", "Recall", "MCR"]
    assert sum(r["Pixels"] for r in rows) == sum(r["Predicted"] for r in rows) == int(s.matrix.sum())
    for c, r in enumerate(rows):
        for key, arr in (("IoU", "IoU"), ("Dice", "Dice"), ("Precision", "precision"), ("MCR", "MCR")):
            v = s.per_class[arr][c]
            assert r[key] is None if np.isnan(v) else r[key] == round(float(v), 5)
    assert metrics.to_df().shape == (len(names), 9)
    csv = metrics.to_csv().strip().splitlines()
    assert len(csv) == len(names) + 1 and csv[0].startswith("Class,Images,Pixels")
    assert json.loads(metrics.to_json()) == rows
