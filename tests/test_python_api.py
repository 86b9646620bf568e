"""The Python API: YOLO(...).train/val/predict in-process, and the SemSegResults object."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(scope="module")
def api_model(toy_data, root):
    from ultralytics import YOLO

    model = YOLO("yolo26n-semseg.yaml")
    metrics = model.train(data="synthetic-streets.yaml", epochs=1, imgsz=64, batch=16, project=str(root / "runs"),
                          name="api", exist_ok=True, plots=False)  # fmt: skip
    assert 0 <= metrics.semseg.IoU <= 1 and metrics.results_dict["fitness"] == metrics.semseg.IoU
    return model


def test_train_returns_model_and_val_metrics(api_model, root):
    assert api_model.task == "semseg" and api_model.overrides["model"].endswith("best.pt")
    metrics = api_model.val(plots=False)
    assert list(metrics.results_dict) == [*metrics.keys, "fitness"] and "metrics/mDice" in metrics.keys
    s = metrics.semseg
    assert s.matrix.shape == (8, 8) and int(s.matrix.sum()) > 24 * 128 * 256 * 0.8  # original sizes
    assert len(s.per_class["IoU"]) == 8 and all(0 <= v <= 1 for v in (s.IoU, s.DiceScore, s.precision, s.recall))
    assert metrics.results_dict["metrics/mIoU"] == s.IoU == metrics.fitness


def test_results_api(api_model, toy_data, tmp_path):
    img = sorted((toy_data["path"] / "images" / "val").glob("*.jpg"))[0]
    r = api_model(str(img), verbose=False)[0]
    assert type(r).__name__ == "SemSegResults"
    assert r.semseg.data.shape == (128, 256) and r.semseg.data.dtype == torch.uint8
    for other in (r.cpu(), r.numpy(), r[0]):
        assert type(other).__name__ == "SemSegResults" and other.semseg is not None
    assert isinstance(r.numpy().semseg.data, np.ndarray)
    summary = r.summary()
    assert summary and abs(sum(d["pixel_ratio"] for d in summary) - 1) < 1e-3
    assert {d["name"] for d in summary} <= set(toy_data["names"].values())
    assert json.loads(r.to_json())[0].keys() == {"name", "class", "pixel_ratio"}
    plotted = r.plot()
    assert plotted.shape == (128, 256, 3) and plotted.dtype == np.uint8
    png = r.save_mask(tmp_path / "m.png")
    assert np.array_equal(np.asarray(Image.open(png)), r.semseg.data.numpy())


def test_predict_numpy_and_tensor_sources(api_model):
    arr = np.random.default_rng(0).integers(0, 255, (100, 150, 3), dtype=np.uint8)
    r = api_model(arr, verbose=False)[0]
    assert r.semseg.data.shape == (100, 150)
    t = torch.rand(1, 3, 64, 96)
    r = api_model(t, verbose=False)[0]
    assert r.semseg.data.shape == (64, 96)


def test_confidence_probs_and_class_threshold(api_model, toy_data):
    img = str(sorted((toy_data["path"] / "images" / "val").glob("*.jpg"))[0])
    r = api_model(img, return_conf=True, return_probs=True, verbose=False)[0].semseg
    assert r.conf.shape == (128, 256) and r.probs.shape == (8, 128, 256)
    assert torch.allclose(r.probs.max(0).values, r.conf) and torch.equal(r.probs.argmax(0).byte(), r.data)
    low = api_model(img, class_conf=0.9, verbose=False)[0].semseg
    assert low.conf is None and torch.equal(low.data == 255, r.conf < 0.9)
