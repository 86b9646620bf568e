"""Dataset formats end to end: Cityscapes and ADE20K official layouts through their converters, RGB colour masks with
a `colors:` table, YOLO polygon labels; mask-reading errors and the `check` command.

The generated data copies the real layouts file name for file name, at 64x128 pixels, with the content of the
synthetic street scenes re-encoded in each dataset's own label ids or colours.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from conftest import run_cli
from PIL import Image

from ultralytics_semseg.cfg import DATASETS_DIR, resolve_data_yaml
from ultralytics_semseg.convert import convert_ade20k, convert_cityscapes
from ultralytics_semseg.data.build import check_semseg_dataset
from ultralytics_semseg.data.check import check_dataset
from ultralytics_semseg.data.check import main as check_main
from ultralytics_semseg.data.dataset import SemSegDataset
from ultralytics_semseg.data.formats import parse_colors, rasterize_polygons, read_polygons
from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets
from ultralytics_semseg.data.utils import build_label_lut

TOY_TO_ADE = {"vegetation": "tree"}  # other toy class names are ADE20K names too
# Cityscapes colours of the toy classes (the official gtFine_color palette)
COLORS = {
    "road": (128, 64, 128),
    "sidewalk": (244, 35, 232),
    "building": (70, 70, 70),
    "vegetation": (107, 142, 35),
    "sky": (70, 130, 180),
    "pole": (153, 153, 153),
    "car": (0, 0, 142),
    "person": (220, 20, 60),
}
TRAIN = ["semseg", "train", "model=yolo11n-semseg.yaml", "epochs=1", "imgsz=64", "batch=4", "workers=0", "plots=False"]


def _args(**kw):
    from ultralytics.cfg import get_cfg

    from ultralytics_semseg.cfg import load_defaults

    return get_cfg(overrides={**load_defaults(), "imgsz": 64, **kw})


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    """Synthetic scenes of 64x128 pixels: the content every layout below is made of."""
    return generate_synthetic_streets(tmp_path_factory.mktemp("toy") / "toy", n_train=8, n_val=4, height=64, width=128)


def _toy_pairs(toy: Path, split: str):
    for f in sorted((toy / "images" / split).glob("*.jpg")):
        yield f.stem, cv2.imread(str(f)), np.asarray(Image.open(toy / "masks" / split / f"{f.stem}.png"))


def _raw_ids(yaml_name: str, names: dict[str, str] | None = None) -> np.ndarray:
    """Toy class id (and 255) -> the first raw id that the packaged YAML maps to that class."""
    d = yaml.safe_load((DATASETS_DIR / yaml_name).read_text())
    by_name = {n: i for i, n in d["names"].items()}
    first = {}
    for raw, train in d["label_mapping"].items():
        first.setdefault(train, raw)
    lut = np.zeros(256, np.uint8)
    for i, n in STREET_NAMES.items():
        lut[i] = first[by_name[(names or {}).get(n, n)]]
    lut[255] = first[255] if first[255] >= 0 else 0
    return lut


def make_cityscapes_tree(toy: Path, root: Path) -> Path:
    """The official `leftImg8bit/` + `gtFine/` trees with Cityscapes' file names (all gtFine file kinds)."""
    lut = _raw_ids("cityscapes.yaml")
    lut[255] = 0  # 'unlabeled'
    cities = {"train": ("aachen", "bochum"), "val": ("frankfurt", "lindau")}
    for split, names in cities.items():
        for k, (_, img, mask) in enumerate(_toy_pairs(toy, split)):
            city = names[k % 2]
            base = f"{city}_{k:06d}_000019"
            (root / "leftImg8bit" / split / city).mkdir(parents=True, exist_ok=True)
            gt = root / "gtFine" / split / city
            gt.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / "leftImg8bit" / split / city / f"{base}_leftImg8bit.png"), img)
            Image.fromarray(lut[mask]).save(gt / f"{base}_gtFine_labelIds.png")
            Image.fromarray(lut[mask].astype(np.uint16) * 1000).save(gt / f"{base}_gtFine_instanceIds.png")
            Image.fromarray(np.zeros((*mask.shape, 3), np.uint8)).save(gt / f"{base}_gtFine_color.png")
            (gt / f"{base}_gtFine_polygons.json").write_text(json.dumps({"imgHeight": 64, "imgWidth": 128}))
    (root / "license.txt").write_text("Cityscapes license")
    return root


def make_ade20k_tree(toy: Path, root: Path) -> Path:
    """ADE20K's `ADEChallengeData2016/{images,annotations}/{training,validation}` with its file names."""
    lut = _raw_ids("ade20k.yaml", TOY_TO_ADE)
    lut[255] = 0  # 'other'
    ade = root / "ADEChallengeData2016"
    for split, official, prefix in (("train", "training", "ADE_train"), ("val", "validation", "ADE_val")):
        (ade / "images" / official).mkdir(parents=True, exist_ok=True)
        (ade / "annotations" / official).mkdir(parents=True, exist_ok=True)
        for k, (_, img, mask) in enumerate(_toy_pairs(toy, split), 1):
            cv2.imwrite(str(ade / "images" / official / f"{prefix}_{k:08d}.jpg"), img)
            Image.fromarray(lut[mask]).save(ade / "annotations" / official / f"{prefix}_{k:08d}.png")
    (ade / "objectInfo150.txt").write_text("Idx\tRatio\tTrain\tVal\tName\n1\t0.1576\t11664\t1172\twall\n")
    (ade / "sceneCategories.txt").write_text("ADE_train_00000001 street\n")
    return ade


def make_color_dataset(toy: Path, root: Path, stray: int = 2) -> Path:
    """`images/` + RGB `masks/` in Cityscapes colours, black = ignore, and a few stray pixels of unknown colours."""
    palette = np.zeros((256, 3), np.uint8)
    for i, n in STREET_NAMES.items():
        palette[i] = COLORS[n]
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "masks" / split).mkdir(parents=True, exist_ok=True)
        for k, (stem, img, mask) in enumerate(_toy_pairs(toy, split)):
            rgb = palette[mask]
            if split == "train" and k < stray:
                rgb[k, :5] = (1, 2, 3)  # 5 pixels of an antialiasing-like colour
            cv2.imwrite(str(root / "images" / split / f"{stem}.jpg"), img)
            Image.fromarray(rgb).save(root / "masks" / split / f"{stem}.png")
    table = "\n".join(f"  {n}: {list(c)}" for n, c in COLORS.items())
    names = "\n".join(f"  {i}: {n}" for i, n in STREET_NAMES.items())
    (root / "data.yaml").write_text(
        f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\ncolors:\n{table}\n  ignore: [0, 0, 0]\n"
    )
    return root / "data.yaml"


POLY_CLASSES = {2: 0, 6: 1, 7: 2}  # toy building, car, person -> polygon classes 0, 1, 2


def make_polygon_dataset(toy: Path, root: Path) -> Path:
    """`images/` + YOLO polygon `labels/` of the buildings, cars and persons; one image has no label file."""
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for k, (stem, img, mask) in enumerate(_toy_pairs(toy, split)):
            cv2.imwrite(str(root / "images" / split / f"{stem}.jpg"), img)
            if split == "train" and k == 0:
                continue  # a background image without a label file
            lines = []
            for toy_id, cls in POLY_CLASSES.items():
                contours, _ = cv2.findContours((mask == toy_id).astype(np.uint8), cv2.RETR_EXTERNAL, 2)
                for c in contours:
                    if len(c) >= 3:
                        xy = (c[:, 0] + 0.5) / np.array([mask.shape[1], mask.shape[0]])
                        lines.append(f"{cls} " + " ".join(f"{v:.5f}" for v in xy.ravel()))
            (root / "labels" / split / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    (root / "data.yaml").write_text(
        f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n  0: building\n  1: car\n  2: person\n"
    )
    return root / "data.yaml"


def _train(root: Path, data: str, name: str) -> Path:
    run_cli(*TRAIN, f"data={data}", f"project={root / 'runs' / 'formats'}", f"name={name}", "exist_ok=True")
    run = root / "runs" / "formats" / name
    assert (run / "weights" / "best.pt").is_file()
    header, *rows = (run / "results.csv").read_text().splitlines()
    last = dict(zip(header.split(","), map(float, rows[-1].split(","))))
    assert 0.0 <= last["metrics/mIoU"] <= 1.0 and 0.0 < last["train/seg_loss"] < 100, last
    # what training read (its label cache): the generated scenes' classes, several of them with real shares (masks
    # decoded to all-ignore or to one class would train and score without an error)
    d = check_semseg_dataset(data)
    counts = np.sum([x["counts"] for x in SemSegDataset(d["train"], data=d, imgsz=64, hyp=_args()).labels], 0)
    assert (counts > 0).sum() >= min(4, len(counts)) and counts.max() < 0.95 * counts.sum(), counts
    return run


# Cityscapes -----------------------------------------------------------------------------------------------------------


def test_cityscapes_yaml_and_alias():
    d = yaml.safe_load((DATASETS_DIR / "cityscapes.yaml").read_text())
    assert len(d["names"]) == 19 and d["names"][18] == "bicycle"
    assert {k: v for k, v in d["label_mapping"].items() if v != 255} == {
        7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13, 27: 14,
        28: 15, 31: 16, 32: 17, 33: 18,
    }  # fmt: skip
    lut = build_label_lut(19, d["label_mapping"])
    assert lut[[0, 1, 6, 7, 26, 33, 34]].tolist() == [255, 255, 255, 0, 13, 18, -1]
    alias = yaml.safe_load((DATASETS_DIR / "CityscapesYOLO.yaml").read_text())
    assert alias == d and resolve_data_yaml("CityscapesYOLO.yaml") == str(DATASETS_DIR / "CityscapesYOLO.yaml")


def test_cityscapes_converter_links_and_refuses_conflicts(toy, tmp_path, caplog):
    src = make_cityscapes_tree(toy, tmp_path / "cityscapes-download")
    os.remove(next((src / "gtFine" / "val" / "lindau").glob("*_labelIds.png")))  # one image without its mask
    dst = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="ultralytics"):
        convert_cityscapes(src, dst)
    img = dst / "images" / "train" / "aachen" / "aachen_000000_000019_leftImg8bit.png"
    mask = dst / "masks" / "train" / "aachen" / "aachen_000000_000019_leftImg8bit.png"
    assert img.is_symlink() and not os.path.isabs(os.readlink(img))  # relative links, nothing copied
    assert mask.resolve() == (src / "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png").resolve()
    assert len(list((dst / "masks" / "val").rglob("*.png"))) == 3 and len(list((dst / "images").rglob("*.png"))) == 12
    assert "val: 1 of 4 images have no labelIds mask" in caplog.text and "test: no images" in caplog.text
    data = check_semseg_dataset(dst / "cityscapes.yaml")
    assert data["path"] == dst and data["nc"] == 19
    convert_cityscapes(src, dst)  # a re-run keeps the links in place
    mask.unlink()
    mask.write_bytes(b"user file")
    with pytest.raises(FileExistsError, match="1 paths under .* already exist"):
        convert_cityscapes(src, dst)
    assert mask.read_bytes() == b"user file"  # never overwritten
    with pytest.raises(FileNotFoundError, match="registration required"):
        convert_cityscapes(tmp_path / "empty")
    hard = convert_cityscapes(src, tmp_path / "hard", splits=("val",), link="hardlink", write_yaml=False)
    f = next((hard / "masks" / "val").rglob("*.png"))
    assert not f.is_symlink() and f.stat().st_nlink == 2 and not (hard / "images" / "train").exists()


def test_cityscapes_trains_via_packaged_yaml(toy, root):
    """Official files unzipped into <datasets_dir>/cityscapes: the packaged YAML links them on first use."""
    make_cityscapes_tree(toy, root / "datasets" / "cityscapes")
    run = _train(root, "cityscapes.yaml", "cityscapes")
    assert (root / "datasets" / "cityscapes" / "masks" / "val" / "frankfurt").is_dir()
    args = yaml.safe_load((run / "args.yaml").read_text())
    assert args["data"].endswith("cityscapes.yaml")


# ADE20K ---------------------------------------------------------------------------------------------------------------


def test_ade20k_convert_cli_and_train(toy, tmp_path, root):
    ade = make_ade20k_tree(toy, tmp_path)
    dst = tmp_path / "ade20k"
    p = run_cli("-m", "ultralytics_semseg.convert", "ade20k", str(ade), str(dst), cmd=sys.executable)
    assert "12 images and 12 masks linked" in p.stdout + p.stderr
    assert (dst / "masks" / "val" / "ADE_val_00000001.png").resolve() == (
        ade / "annotations" / "validation" / "ADE_val_00000001.png"
    ).resolve()
    data = check_semseg_dataset(dst / "ade20k.yaml")
    assert data["nc"] == 150 and data["names"][0] == "wall"
    ds = SemSegDataset(data["val"], data=data, imgsz=64, augment=False, hyp=_args())
    raw = np.asarray(Image.open(ds.mask_files[0]))
    got = ds[0]["ori_mask"].numpy()
    assert (got[raw == 0] == 255).all() and (got[raw > 0] == raw[raw > 0] - 1).all()  # 0 -> ignore, 1..150 -> 0..149
    _train(root, str(dst / "ade20k.yaml"), "ade20k")


def test_ade20k_download_step_finds_the_unzipped_folder(toy, tmp_path):
    """What the packaged YAML's `download:` runs: ADEChallengeData2016 unzipped beside <datasets_dir>/ade20k."""
    make_ade20k_tree(toy, tmp_path)
    root = convert_ade20k(tmp_path / "ade20k", write_yaml=False)
    assert (root / "masks" / "train" / "ADE_train_00000001.png").is_symlink() and not (root / "ade20k.yaml").exists()
    with pytest.raises(FileNotFoundError, match="ADEChallengeData2016.zip"):
        convert_ade20k(tmp_path / "nothing" / "here")


# Colour masks ---------------------------------------------------------------------------------------------------------


def test_parse_colors_errors():
    names = {0: "road", 1: "car"}
    assert parse_colors({0: "#804080", "car": [[0, 0, 142], [0, 0, 143]], 255: [0, 0, 0]}, names) == {
        0: [(128, 64, 128)], 1: [(0, 0, 142), (0, 0, 143)], 255: [(0, 0, 0)],
    }  # fmt: skip
    with pytest.raises(ValueError, match="'colors' key 'bus' is not a class id"):
        parse_colors({"bus": [1, 2, 3]}, names)
    with pytest.raises(ValueError, match=r"colour \[1, 2, 3\] is given to both 0 and 1"):
        parse_colors({0: [1, 2, 3], 1: [1, 2, 3]}, names)
    with pytest.raises(ValueError, match=r"\[1, 2\] is not an RGB colour"):
        parse_colors({0: [1, 2]}, names)


def test_color_masks_decode_and_report_unknown_once(toy, tmp_path, caplog):
    data_yaml = make_color_dataset(toy, tmp_path / "colors")
    data = check_semseg_dataset(data_yaml)
    assert data["label_format"] == "colors"
    with caplog.at_level(logging.WARNING, logger="ultralytics"):
        ds = SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=_args())
    lines = [x for x in caplog.text.splitlines() if "not in 'colors'" in x]
    assert len(lines) == 1 and "10 pixels in 2 of 8 masks" in lines[0] and "RGB (1, 2, 3)" in lines[0]
    _, _, want = next(_toy_pairs(toy, "train"))
    got = ds[0]["ori_mask"].numpy()
    assert (got[0, :5] == 255).all() and (got[1:] == want[1:]).all() and (got[0, 5:] == want[0, 5:]).all()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ultralytics"):  # from the cache: reported again, once
        SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=_args())
    assert sum("not in 'colors'" in x for x in caplog.text.splitlines()) == 1


def test_color_masks_train(toy, tmp_path, root):
    _train(root, str(make_color_dataset(toy, tmp_path / "colors-train")), "colors")


# Polygons -------------------------------------------------------------------------------------------------------------


def test_polygon_parsing_and_rasterising(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("1 0.3 0.3 0.7 0.3 0.7 0.7 0.3 0.7\n0 0 0 1 0 1 1 0 1\n")
    polys = read_polygons(str(f), build_label_lut(3), 3)
    mask = rasterize_polygons(polys, (8, 8), background=2)
    want = np.zeros((8, 8), np.uint8)
    want[2:6, 2:6] = 1  # pixel centres 2.5..5.5 lie in 2.4..5.6; the smaller polygon is on top whatever the order
    assert (mask == want).all()
    mask = rasterize_polygons(polys[:1], (8, 8), background=2)
    assert (mask[want == 0] == 2).all()
    assert (rasterize_polygons([], (2, 2), 255) == 255).all()
    for text, err in (
        ("0 0.5 0.5 0.1 0.1\n", "line 1 has 5 values \\(a bounding box\\?\\)"),
        ("0 0 0 1 0 1 1\n\n3 0 0 1 0 1 1\n", "line 3: class id 3 is not a dataset class 0..2"),
        ("0 0 0 2 0 1 1\n", "line 1: coordinates outside 0..1"),
    ):
        f.write_text(text)
        with pytest.raises(ValueError, match=err):
            read_polygons(str(f), build_label_lut(3), 3)


def test_polygon_background_choices(toy, tmp_path):
    data_yaml = make_polygon_dataset(toy, tmp_path / "poly")
    data = check_semseg_dataset(data_yaml)
    assert data["label_format"] == "polygons" and data["background"] == 3
    assert data["names"] == {0: "building", 1: "car", 2: "person", 3: "background"} and data["nc"] == 4
    assert check_semseg_dataset(data_yaml)["nc"] == 4  # a fresh load gives the same classes
    from ultralytics_semseg.data.build import settle_semseg_keys

    assert settle_semseg_keys(data)["nc"] == 4  # idempotent on an already checked dict
    text = data_yaml.read_text()
    data_yaml.write_text(text + "background: ignore\n")
    assert check_semseg_dataset(data_yaml)["background"] == 255 and check_semseg_dataset(data_yaml)["nc"] == 3
    data_yaml.write_text(text.replace("0: building", "0: Background"))
    assert check_semseg_dataset(data_yaml)["background"] == 0  # a class named background is used as such
    data_yaml.write_text(text)


def test_polygon_samples_match_masks(toy, tmp_path, caplog):
    data = check_semseg_dataset(make_polygon_dataset(toy, tmp_path / "poly"))
    with caplog.at_level(logging.INFO, logger="ultralytics"):
        ds = SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=_args())
    assert "1 of 8 images have no label file" in caplog.text
    assert "pixels outside every polygon are class 3 'background'" in caplog.text
    assert (ds[0]["ori_mask"].numpy() == 3).all()  # the image without a label file
    _, _, toy_mask = list(_toy_pairs(toy, "train"))[1]
    want = np.full_like(toy_mask, 3)
    for toy_id, cls in POLY_CLASSES.items():
        want[toy_mask == toy_id] = cls
    got = ds[1]["ori_mask"].numpy()
    assert (got == want).mean() > 0.97  # contours trace pixel centres; edges may differ by a pixel
    for f in (tmp_path / "poly" / "labels" / "val").glob("*.txt"):
        f.unlink()  # labels in the wrong place: refused, not trained as all-background
    with pytest.raises(FileNotFoundError, match="no YOLO polygon labels found: none of the 4 images"):
        SemSegDataset(data["val"], data=data, imgsz=64, augment=False, hyp=_args())


def test_polygons_train_val_predict_agree(toy, tmp_path, root):
    """Train-time val, standalone `yolo semseg val` and predict use the YAML's class list with 'background'."""
    data_yaml = make_polygon_dataset(toy, tmp_path / "poly-train")
    run = _train(root, str(data_yaml), "polygons")
    best = run / "weights" / "best.pt"
    p = run_cli("semseg", "val", f"model={best}", "imgsz=64", "batch=4", f"project={run}", "name=val")
    out = p.stdout + p.stderr
    rows = [x.split() for x in out.splitlines() if x.strip().startswith(("background", "building"))]
    assert [r[0] for r in rows] == ["building", "background"]
    assert int(rows[1][2]) > 0  # background pixels are labelled in standalone val too

    from ultralytics import YOLO

    model = YOLO(str(best))
    assert model.names == check_semseg_dataset(data_yaml)["names"]
    result = model.predict(str(tmp_path / "poly-train" / "images" / "val"), imgsz=64, verbose=False)[0]
    assert result.semseg.data.max() <= 3 and result.names[3] == "background"


# Mask reading errors and the check command --------------------------------------------------------------------------


def _write(root: Path, name: str, img: np.ndarray, mask: np.ndarray | None, mode: str | None = None):
    (root / "images" / "train").mkdir(parents=True, exist_ok=True)
    (root / "masks" / "train").mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "images" / "train" / f"{name}.png"), img)
    if mask is not None:
        im = Image.fromarray(mask)
        if mode == "P":
            im = im.convert("P")
            im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
        im.save(root / "masks" / "train" / f"{name}.png")


def test_mask_kinds_and_check_lists_all_problems(tmp_path, capsys):
    img = np.full((16, 24, 3), 90, np.uint8)
    ids = np.zeros((16, 24), np.uint8)
    ids[4:] = 1
    _write(tmp_path, "a_8bit", img, ids)
    _write(tmp_path, "b_16bit", img, (ids.astype(np.uint16) * 300 + 700))  # raw 700 / 1000 via label_mapping
    _write(tmp_path, "c_palette", img, ids, mode="P")
    _write(tmp_path, "d_badsize", img, ids[:10])
    _write(tmp_path, "e_badid", img, ids * 9)
    _write(tmp_path, "f_nomask", img, None)
    (tmp_path / "images" / "train" / "g_corrupt.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "data.yaml").write_text(
        f"path: {tmp_path}\ntrain: images/train\nval: images/train\nnames: [a, b]\nlabel_mapping: {{700: 0, 1000: 1}}\n"
    )
    data = check_semseg_dataset(tmp_path / "data.yaml")
    ds = SemSegDataset(data["train"], data=data, imgsz=32, augment=False, hyp=_args())
    assert [Path(f).stem for f in ds.im_files] == ["a_8bit", "b_16bit", "c_palette"]
    assert all((ds[i]["ori_mask"].numpy() == ids).all() for i in range(3))
    reports = check_dataset(tmp_path / "data.yaml", splits=("train",))
    assert reports[0].images == 7 and reports[0].usable == 3 and len(reports[0].errors) == 4
    assert check_main([str(tmp_path / "data.yaml"), "--splits", "train"]) == 1
    out = capsys.readouterr().out
    for problem in (
        "d_badsize.png: mask size 24x10 differs from image size 24x16",
        "e_badid.png: class ids [9] are not dataset classes 0..1 nor 255",
        "f_nomask.png: mask not found at",
        "g_corrupt.png: truncated PNG image: the file ends at byte 11 before its image data",
        "4 errors, 0 warnings",
    ):
        assert problem in out, problem


def test_check_cli_on_clean_dataset(toy_data):
    p = run_cli("-m", "ultralytics_semseg.data.check", "synthetic-streets.yaml", cmd=sys.executable)
    assert "train: 96 images, 96 usable, 0 with errors" in p.stdout and "0 errors" in p.stdout


def test_dataset_key_validation_changes_nothing():
    from ultralytics_semseg.data.build import complete_semseg_keys, validate_semseg_keys

    d = {"names": {0: "car"}, "label_format": "polygons"}
    validate_semseg_keys(d)
    assert d == {"names": {0: "car"}, "label_format": "polygons"}  # no defaults, no background class yet
    assert complete_semseg_keys(d)["names"] == {0: "car", 1: "background"} and d["background"] == 1 and d["nc"] == 2
    big = {"names": {i: str(i) for i in range(255)}, "label_format": "polygons", "yaml_file": "big.yaml"}
    with pytest.raises(ValueError, match="big.yaml: 256 classes given"):  # counting the background it would add
        validate_semseg_keys(big)
    assert len(big["names"]) == 255
