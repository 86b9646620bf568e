"""Our validator's mIoU against the official Cityscapes pixel-level evaluator (`cityscapesscripts`).

A small dataset is generated in the Cityscapes layout (`leftImg8bit/` and `gtFine/..._gtFine_labelIds.png`, raw label
ids) and mirrored into ours (`images/`, `masks/`, symlinks) with the official labelId -> trainId table as
`label_mapping`. A tiny model is trained on it, `val(save_json=True)` writes full-resolution PNGs of raw label ids, and
`evalPixelLevelSemanticLabeling.evaluateImgLists` scores those against the gtFine files.
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image

labels_mod = pytest.importorskip("cityscapesscripts.helpers.labels")
evalpix = pytest.importorskip("cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")

from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets  # noqa: E402

CS_LABELS = [lb for lb in labels_mod.labels if lb.id >= 0]
TRAIN_NAMES = {lb.trainId: lb.name for lb in CS_LABELS if not lb.ignoreInEval}  # the 19 Cityscapes train classes
LABEL_MAPPING = {lb.id: 255 if lb.ignoreInEval else lb.trainId for lb in CS_LABELS}  # raw labelId -> trainId
EVAL_IDS = {lb.id for lb in CS_LABELS if not lb.ignoreInEval}
TOY_TO_LABELID = {"road": 7, "sidewalk": 8, "building": 11, "vegetation": 21, "sky": 23, "pole": 17, "car": 26,
                  "person": 24}  # fmt: skip
CITYSCAPES_19 = ["road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
                 "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle",
                 "bicycle"]  # fmt: skip
CITIES = {"train": ("aachen", "bochum"), "val": ("frankfurt", "lindau")}
N_TRAIN, N_VAL = 48, 6  # with 3 epochs at batch 4: several classes predicted, ~20 s on 2 CPU cores
TOL_POINTS = 0.05  # |ours - official| in mIoU points (percent)


def _toy_lut() -> np.ndarray:
    """Toy class id -> Cityscapes labelId; toy ignore (255) -> 0 'unlabeled'."""
    lut = np.zeros(256, np.uint8)
    for toy_id, name in STREET_NAMES.items():
        lut[toy_id] = TOY_TO_LABELID[name]
    return lut


def _link(src: Path, dst: Path) -> None:
    """Symlink dst -> src, copying where symlinks are not allowed (e.g. Windows without privileges)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _write_cityscapes(toy: Path, root: Path, split: str, lut: np.ndarray) -> list[Path]:
    """Convert one toy split into the official tree plus our mirrored layout; return the gtFine label files."""
    gts = []
    for i, img_file in enumerate(sorted((toy / "images" / split).glob("*.jpg"))):
        city = CITIES[split][i % 2]
        stem = f"{city}_{i // 2:06d}_{19 + i:06d}"
        raw = lut[cv2.imread(str(toy / "masks" / split / f"{img_file.stem}.png"), cv2.IMREAD_UNCHANGED)]
        bottom = raw[raw.shape[0] * 9 // 10 :]  # a view: unlabeled near the bottom becomes 'ego vehicle' (also ignored)
        bottom[bottom == 0] = 1
        img = root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png"
        gt = root / "gtFine" / split / city / f"{stem}_gtFine_labelIds.png"
        img.parent.mkdir(parents=True, exist_ok=True)
        gt.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(img), cv2.imread(str(img_file)))
        Image.fromarray(raw).save(gt)
        _link(img, root / "images" / split / city / img.name)
        _link(gt, root / "masks" / split / city / img.name)  # our mask name: image name with suffix .png
        gts.append(gt)
    return gts


@pytest.fixture(scope="module")
def cityscapes_like(tmp_path_factory) -> dict:
    """Generated Cityscapes-layout dataset (128x256) and its dataset YAML in our format."""
    tmp = tmp_path_factory.mktemp("cityscapes-like")
    toy = generate_synthetic_streets(tmp / "toy", n_train=N_TRAIN, n_val=N_VAL, height=128, width=256, seed=3)
    root, lut = tmp / "cityscapes", _toy_lut()
    _write_cityscapes(toy, root, "train", lut)
    gts = _write_cityscapes(toy, root, "val", lut)
    data = {"path": str(root), "train": "images/train", "val": "images/val", "masks_dir": "masks",
            "names": TRAIN_NAMES, "label_mapping": LABEL_MAPPING}  # fmt: skip
    yaml_file = tmp / "cityscapes-like.yaml"
    yaml_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return {"root": root, "yaml": yaml_file, "gts": gts, "tmp": tmp}


@pytest.fixture(scope="module")
def validated(cityscapes_like) -> dict:
    """Train a tiny model for 3 epochs, then validate it with save_json=True; return metrics and the save dir."""
    from ultralytics import YOLO

    runs, data = cityscapes_like["tmp"] / "runs", str(cityscapes_like["yaml"])
    model = YOLO("yolo11n-semseg.yaml")
    model.train(data=data, epochs=3, imgsz=128, batch=4, workers=0, seed=0, plots=False, project=str(runs),
                name="train", exist_ok=True)  # fmt: skip
    best = runs / "train" / "weights" / "best.pt"
    metrics = YOLO(best).val(data=data, imgsz=128, batch=6, workers=0, save_json=True, plots=False,
                             project=str(runs), name="val", exist_ok=True)  # fmt: skip
    return {"metrics": metrics, "save_dir": Path(metrics.save_dir)}


def _official_scores(preds: list[Path], gts: list[Path], export_dir: Path) -> dict:
    """Run the official pixel-level evaluation on explicit file lists: quiet, no JSON, no instance files needed.

    The instance-level (iIoU) and pixel-accuracy branches stay off: they need `*_instanceIds.png` files and call
    `np.in1d`, which NumPy 2.4 removed.
    """
    args = copy.copy(evalpix.args)  # module-level defaults; the copy keeps the module's own object untouched
    args.quiet, args.JSONOutput, args.evalInstLevelScore, args.evalPixelAccuracy = True, False, False, False
    args.colorized, args.bold, args.nocol = False, "", ""
    args.exportFile = str(export_dir / "resultPixelLevelSemanticLabeling.json")
    try:
        return evalpix.evaluateImgLists([str(p) for p in preds], [str(g) for g in gts], args)
    except SystemExit as e:  # the official script reports errors with print + sys.exit
        pytest.fail(f"cityscapesscripts evaluation failed (exit {e.code}), see captured stdout")


def _expected_prediction(save_dir: Path, gt: Path) -> Path:
    """Contract: <save_dir>/predictions/<image path relative to images/val> with suffix .png."""
    return save_dir / "predictions" / gt.parent.name / gt.name.replace("_gtFine_labelIds", "_leftImg8bit")


def _find_prediction(save_dir: Path, gt: Path) -> Path:
    """The one prediction for a gtFine file, matched as the official `getPrediction` does: <city>_<seq>_<frame>*.png."""
    found = sorted((save_dir / "predictions").rglob("_".join(gt.name.split("_")[:3]) + "*.png"))
    assert len(found) == 1, f"expected one prediction for {gt.name} under {save_dir / 'predictions'}, found {found}"
    return found[0]


def test_dataset_matches_official_layout(cityscapes_like):
    root, gts = cityscapes_like["root"], cityscapes_like["gts"]
    assert len(gts) == N_VAL and {g.parent.name for g in gts} == set(CITIES["val"])
    assert list(TRAIN_NAMES.values()) == CITYSCAPES_19 and list(TRAIN_NAMES) == list(range(19))
    for gt in gts:
        ids = set(np.unique(np.asarray(Image.open(gt))).tolist())
        assert ids <= set(TOY_TO_LABELID.values()) | {0, 1} and len(ids & EVAL_IDS) >= 4
        image = root / "images" / "val" / gt.parent.name / gt.name.replace("_gtFine_labelIds", "_leftImg8bit")
        assert image.is_file() and Image.open(image).size == Image.open(gt).size == (256, 128)


def test_predictions_mirror_image_tree(cityscapes_like, validated):
    """Predictions keep the sub-folders of images/val (here symlinks into leftImg8bit/), not flat names."""
    expected = [_expected_prediction(validated["save_dir"], gt) for gt in cityscapes_like["gts"]]
    written = sorted((validated["save_dir"] / "predictions").rglob("*.png"))
    assert written == sorted(expected), f"prediction paths differ from the contract: {written}"


def test_predictions_are_full_resolution_raw_label_ids(cityscapes_like, validated):
    seen = set()
    for gt in cityscapes_like["gts"]:
        arr = np.asarray(Image.open(_find_prediction(validated["save_dir"], gt)))
        assert arr.ndim == 2 and arr.shape == np.asarray(Image.open(gt)).shape
        seen |= set(np.unique(arr).tolist())
    assert seen <= EVAL_IDS, f"predictions hold ids that are not raw Cityscapes labelIds of eval classes: {seen}"
    assert len(seen) >= 3, f"predictions are trivial ({seen}); the fixture's model is not trained enough"


def test_miou_matches_cityscapesscripts(cityscapes_like, validated):
    gts, metrics = cityscapes_like["gts"], validated["metrics"]
    preds = [_find_prediction(validated["save_dir"], gt) for gt in gts]
    official = _official_scores(preds, gts, cityscapes_like["tmp"])
    theirs, ours = official["averageScoreClasses"], metrics.semseg.IoU
    print(
        f"\nmIoU: ours {100 * ours:.4f}, cityscapesscripts {100 * theirs:.4f}, diff {100 * (ours - theirs):+.2e} points"
    )
    assert metrics.results_dict["metrics/mIoU"] == ours
    assert abs(100 * ours - 100 * theirs) <= TOL_POINTS
    ours_per_class = metrics.semseg.per_class["IoU"]
    for train_id, name in TRAIN_NAMES.items():  # per class too: NaN (absent) in both, or close
        a, b = ours_per_class[train_id], official["classScores"][name]
        assert np.isnan(a) == np.isnan(b) and (np.isnan(a) or abs(100 * a - 100 * b) <= TOL_POINTS), (name, a, b)
