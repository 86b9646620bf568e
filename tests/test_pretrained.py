"""The pretrained weights shipped in the wheel: `yolo11n-semseg.pt` (and the YOLO26n start `yolo26n-semseg.pt`) by name,
offline, for prediction and fine-tuning."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import run_cli, transferred
from PIL import Image

from ultralytics_semseg.cfg import WEIGHTS_DIR, packaged_weights

PACKAGED = WEIGHTS_DIR / "yolo11n-semseg.pt"
STREET_NAMES = ["road", "sidewalk", "building", "vegetation", "sky", "pole", "car", "person"]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def packaged_sha() -> str:
    """The packaged file's hash before the module's tests; each test checks it never changes."""
    return sha256(PACKAGED)


def test_packaged_weights_list():
    assert packaged_weights() == ["yolo11n-semseg.pt", "yolo26n-semseg.pt"]


def test_name_loads_offline_as_a_copy_in_the_working_directory(tmp_path, monkeypatch, packaged_sha):
    from ultralytics import YOLO

    monkeypatch.chdir(tmp_path)
    model = YOLO("yolo11n-semseg.pt")
    assert model.task == "semseg" and type(model.model).__name__ == "SemSegModel"
    assert list(model.names.values())[:8] == STREET_NAMES and len(model.names) == 14
    assert Path(model.ckpt_path).resolve() == tmp_path / "yolo11n-semseg.pt"  # exports land here, not in the package
    assert sha256(tmp_path / "yolo11n-semseg.pt") == packaged_sha == sha256(PACKAGED)
    assert model.overrides["imgsz"] == 192 and model.overrides.get("data") is None  # no pretraining path leaks
    assert not Path(model.ckpt["pretrain_args"]["data"]).is_absolute()  # recorded relative to the repository


def test_own_file_of_that_name_wins_and_is_not_overwritten(tmp_path, monkeypatch, trained_run, packaged_sha):
    from ultralytics import YOLO

    monkeypatch.chdir(tmp_path)
    own = tmp_path / "yolo11n-semseg.pt"
    shutil.copy(trained_run / "weights" / "best.pt", own)
    before = sha256(own)
    model = YOLO("yolo11n-semseg.pt")
    assert len(model.names) == 8 and sha256(own) == before != packaged_sha


@pytest.mark.parametrize("name", ["yolo11n-semseg.pt", "yolo26n-semseg.pt"])
def test_packaged_weights_segment_street_scenes(name, toy_data, tmp_path, monkeypatch):
    """Real weights, not a random start: on the built-in street scenes (a generator seed the pretraining did not use,
    same classes as its ids 0-7) most pixels are right at the training size."""
    from ultralytics import YOLO

    monkeypatch.chdir(tmp_path)
    model = YOLO(name)
    assert model.task == "semseg" and list(model.names.values())[:8] == STREET_NAMES and len(model.names) == 14
    assert Path(model.model.yaml["yaml_file"]).name == name.replace(".pt", ".yaml")  # the architecture it names
    images = sorted(Path(toy_data["val"]).glob("*.jpg"))[:8]
    right = total = 0
    for result in model.predict([str(f) for f in images], verbose=False):
        f = Path(result.path)
        gt = cv2.imread(str(f.parent.parent.parent / "masks" / "val" / f"{f.stem}.png"), cv2.IMREAD_UNCHANGED)
        pred, valid = result.semseg.data.numpy(), gt != 255
        right, total = right + int((pred[valid] == gt[valid]).sum()), total + int(valid.sum())
    assert right / total > 0.85, right / total  # measured 0.94 (both) over the 24 val images; random weights ~0.1


def test_cli_predict_by_name(toy_data, tmp_path, packaged_sha):
    source = sorted(Path(toy_data["val"]).glob("*.jpg"))[0]
    run_cli("semseg", "predict", "model=yolo11n-semseg.pt", f"source={source}", "save_txt=True",
            f"project={tmp_path / 'runs'}", "name=pred", cwd=tmp_path)  # fmt: skip
    mask = np.asarray(Image.open(tmp_path / "runs" / "pred" / "labels" / f"{source.stem}.png"))  # palette PNG: ids
    assert mask.shape == cv2.imread(str(source)).shape[:2] and mask.max() < 14
    assert sha256(PACKAGED) == packaged_sha


def test_fine_tune_from_the_name(toy_data, tmp_path, monkeypatch, caplog, packaged_sha):
    """`YOLO("yolo11n-semseg.pt").train(data=...)` transfers everything but the class-count-shaped tensors."""
    from ultralytics import YOLO

    monkeypatch.chdir(tmp_path)
    model = YOLO("yolo11n-semseg.pt")
    with caplog.at_level(logging.INFO, logger="ultralytics"):
        model.train(data="synthetic-streets.yaml", epochs=1, imgsz=64, batch=16, fraction=0.25, plots=False,
                    project=str(tmp_path / "runs"), name="ft", exist_ok=True)  # fmt: skip
    n, total = transferred(caplog.text)
    assert total - 8 <= n < total  # the classifier, detail and auxiliary output layers have nc rows
    assert model.names == dict(enumerate(STREET_NAMES)) and model.overrides["model"].endswith("best.pt")
    assert sha256(PACKAGED) == packaged_sha


def test_cli_pretrained_by_name(tmp_path, packaged_sha):
    """`pretrained=yolo11n-semseg.pt` with a model YAML reads the packaged file in place."""
    p = run_cli("semseg", "train", "model=yolo11n-semseg.yaml", "pretrained=yolo11n-semseg.pt",
                "data=synthetic-streets.yaml", "epochs=1", "imgsz=64", "batch=16", "fraction=0.25", "plots=False",
                f"project={tmp_path / 'runs'}", "name=pt", "exist_ok=True", cwd=tmp_path)  # fmt: skip
    n, total = transferred(p.stdout + p.stderr)
    assert total - 8 <= n < total
    assert not (tmp_path / "yolo11n-semseg.pt").exists() and sha256(PACKAGED) == packaged_sha
