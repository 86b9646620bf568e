"""End to end through the real `yolo` console script: train -> val -> predict -> export -> predict on ONNX."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml
from conftest import run_cli
from PIL import Image


def test_train_outputs(trained_run):
    weights = trained_run / "weights"
    assert (weights / "best.pt").is_file() and (weights / "last.pt").is_file()
    header = (trained_run / "results.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,time,train/seg_loss") and "train/aux_loss" in header
    assert "val/seg_loss" in header and "val/aux_loss" not in header  # the aux head does not run in validation
    ckpt = torch.load(weights / "best.pt", weights_only=False)
    assert ckpt["train_args"]["task"] == "semseg"
    assert ckpt["train_args"]["mosaic"] == 0.0  # task defaults, not detection ones
    assert type(ckpt["model"] if ckpt["model"] is not None else ckpt["ema"]).__name__ == "SemSegModel"
    assert (trained_run / "labels.jpg").is_file() and (trained_run / "val_batch0.jpg").is_file()


def test_class_weights_come_from_train_pixel_counts(trained_run, toy_data):
    """Default cls_pw=1 with Dice: the ENet weights of the train masks' pixel shares (counted from the PNGs), mean 1."""
    masks = sorted((Path(toy_data["path"]) / "masks" / "train").glob("*.png"))
    pixels = np.concatenate([cv2.imread(str(m), cv2.IMREAD_UNCHANGED).ravel() for m in masks])
    counts = np.bincount(pixels, minlength=256)[: toy_data["nc"]]
    expected = 1 / np.log(1.02 + counts / counts.sum())
    ckpt = torch.load(trained_run / "weights" / "last.pt", weights_only=False)
    model = ckpt["model"] if ckpt["model"] is not None else ckpt["ema"]
    assert np.allclose(model.class_weights.cpu().numpy(), expected / expected.mean(), rtol=1e-5)
    assert ckpt["train_args"]["cls_pw"] == 1.0 and ckpt["train_args"]["dice"] == 1.0
    assert ckpt["train_args"]["rare_class_sampling"] == 1.0  # the task's default order: rare-class sampling


def all_row(log: str) -> list[str]:
    """The fields of the validator's 'all' row: images, pixels, mIoU, mDice, mPrecision, mRecall, mMCR."""
    return next(x for x in log.splitlines() if x.strip().startswith("all")).split()[1:]


def test_val_remembers_dataset(trained_run, root):
    """Without data=, val scores the dataset the checkpoint was trained on (its train_args), not the default one."""
    from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets

    other = generate_synthetic_streets(
        root / "datasets" / "remembered", n_train=1, n_val=5, height=128, width=256, seed=7
    )
    data = root / "remembered.yaml"
    data.write_text(yaml.safe_dump({"path": str(other), "train": "images/train", "val": "images/val",
                                    "names": dict(STREET_NAMES)}))  # fmt: skip
    ckpt = torch.load(trained_run / "weights" / "best.pt", weights_only=False)
    ckpt["train_args"]["data"] = str(data)  # as if it had been trained on the 5-image set
    pt = root / "remembered.pt"
    torch.save(ckpt, pt)
    common = [f"model={pt}", f"project={root / 'runs'}", "exist_ok=True"]
    remembered = run_cli("semseg", "val", *common, "name=val-remembered")
    explicit = run_cli("semseg", "val", *common, f"data={data}", "name=val-explicit")
    out = remembered.stdout + remembered.stderr
    for name in ("road", "sky", "pole", "person"):  # per-class table
        assert name in out
    row = all_row(out)
    assert row[0] == "5", row  # the remembered dataset's 5 val images, not the built-in set's 24
    assert row == all_row(explicit.stdout + explicit.stderr)


def test_predict_writes_overlay_and_class_png(trained_run, toy_data, root):
    src = sorted((toy_data["path"] / "images" / "val").glob("*.jpg"))[:3]
    out = root / "runs" / "predict"
    run_cli("semseg", "predict", f"model={trained_run / 'weights' / 'best.pt'}", f"source={src[0].parent}",
            "save_txt=True", f"project={out.parent}", f"name={out.name}", "exist_ok=True")  # fmt: skip
    overlay = out / src[0].name
    mask = out / "labels" / (src[0].stem + ".png")
    assert overlay.is_file() and mask.is_file()
    m = Image.open(mask)
    assert m.mode == "P" and m.size == Image.open(src[0]).size  # palette PNG at the original size
    ids = np.unique(np.asarray(m))
    assert set(ids.tolist()) <= set(range(8))


@pytest.mark.parametrize("dynamic", [True, False])
def test_export_onnx_matches_pytorch(trained_run, toy_data, dynamic):
    from ultralytics import YOLO

    pt = trained_run / "weights" / "best.pt"
    # Input at the images' own size (a static export at their 1:2 shape), so both letterbox identically. At a smaller
    # imgsz the two differ by design at boundaries: PyTorch resizes logits to the original size before the argmax,
    # an exported graph returns the class map at input size, which is resized with nearest.
    args = ["dynamic=True", "imgsz=256"] if dynamic else ["imgsz=128,256"]
    p = run_cli("export", f"model={pt}", "format=onnx", *args)
    onnx_file = pt.with_suffix(".onnx")
    assert onnx_file.is_file(), p.stdout + p.stderr

    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["task"] == "semseg" and ast.literal_eval(meta["names"])[5] == "pole"
    assert session.get_outputs()[0].type == "tensor(uint8)"

    images = sorted((toy_data["path"] / "images" / "val").glob("*.jpg"))[:6]
    ref = [r.semseg.data.cpu().numpy() for r in YOLO(str(pt)).predict(images, imgsz=256, verbose=False)]
    # a fresh model per image: older 8.4 releases neither split a batch for a batch-1 export nor keep a static
    # export's own shape when predict() is called a second time with imgsz=
    got = [YOLO(str(onnx_file)).predict(im, imgsz=256, verbose=False)[0].semseg.data.cpu().numpy() for im in images]
    for a, b in zip(ref, got):
        assert a.shape == b.shape == (128, 256)
        assert (a == b).mean() >= 0.999


def test_resume_from_epoch_checkpoint(trained_run, root):
    """`resume=True` continues an interrupted run through Ultralytics' trainer (epoch0.pt still has its optimizer)."""
    import shutil

    run = root / "runs" / "resume-me"
    shutil.copytree(trained_run, run, dirs_exist_ok=True)
    ckpt = run / "weights" / "epoch0.pt"  # saved after the first of two epochs
    assert ckpt.is_file()
    p = run_cli("semseg", "train", f"model={ckpt}", "resume=True")
    out = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", p.stdout + p.stderr).replace("\r", "\n")  # no ANSI codes
    epochs = {line.split()[0] for line in out.splitlines() if line.strip()[:4] in ("1/2 ", "2/2 ")}
    assert "Resuming training" in out and epochs == {"2/2"}, epochs  # the second epoch only, not the first again
    assert "Restored the exact model, EMA, optimizer, gradient and random states of epoch 1" in out


def test_missing_semseg_weights_fail_fast(root):
    p = run_cli("semseg", "predict", "model=yolo26s-semseg.pt", "source=x.jpg", check=False)
    assert p.returncode != 0
    assert "yolo26s-semseg.pt" in p.stderr and "To train others first" in p.stderr
    assert "shipped with the package: yolo11n-semseg.pt, yolo26n-semseg.pt" in p.stderr


def test_detect_task_unaffected(root):
    """A detection run beside ours: `yolo detect train` still works with the plug-in installed."""
    from PIL import Image as Im

    d = root / "det"
    for split in ("train", "val"):
        (d / "images" / split).mkdir(parents=True, exist_ok=True)
        (d / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(4):
            a = np.full((64, 64, 3), 40, np.uint8)
            a[16:48, 8 + 4 * i : 40 + 4 * i] = 220
            Im.fromarray(a).save(d / "images" / split / f"{i}.jpg")
            (d / "labels" / split / f"{i}.txt").write_text(f"0 {(24 + 4 * i) / 64:.4f} 0.5 0.5 0.5\n")
    (d / "data.yaml").write_text(f"path: {d}\ntrain: images/train\nval: images/val\nnames:\n  0: box\n")
    p = run_cli("detect", "train", f"data={d / 'data.yaml'}", "model=yolo11n.yaml", "epochs=1", "imgsz=64",
                "batch=4", f"project={root / 'runs'}", "name=detect", "exist_ok=True", "plots=False")  # fmt: skip
    assert "mAP50" in p.stdout + p.stderr
    ckpt = torch.load(root / "runs" / "detect" / "weights" / "last.pt", weights_only=False)
    assert ckpt["train_args"]["task"] == "detect" and ckpt["train_args"]["mosaic"] == 1.0


def test_val_tta_sliding_window_and_label_id_pngs(toy_data, root):
    # the packaged weights predict every class of the set (the 2-epoch test run predicts one: TTA could not change it)
    base = dict(model="yolo11n-semseg.pt", data="synthetic-streets.yaml", imgsz=128, batch=4, project=root / "runs")
    outs = {}
    for name, extra in {
        "whole": [],
        "tta": ["augment=True", "tta_scales=[1.0,1.5]"],
        "slide": ["slide_window=64", "slide_stride=32"],
        "ids": ["save_json=True", "plots=True"],
    }.items():
        args = [f"{k}={v}" for k, v in base.items()] + [f"name=val-{name}", "exist_ok=True", *extra]
        out = run_cli("semseg", "val", *args)
        outs[name] = out.stdout + out.stderr
        assert "Metrics at the original label resolution (128x256)" in outs[name]
    rows = {name: all_row(log) for name, log in outs.items()}
    assert rows["ids"] == rows["whole"]  # the PNGs and plots do not change the scores
    # TTA and the sliding window change the predictions, so the scores, of the same 24 images and pixels
    for name in ("tta", "slide"):
        assert rows[name][:2] == rows["whole"][:2] and rows[name][2:] != rows["whole"][2:], (name, rows)
    run = root / "runs" / "val-ids"
    pngs = sorted((run / "predictions").glob("*.png"))
    assert len(pngs) == 24 and Image.open(pngs[0]).size == (256, 128)
    assert (run / "confusion_matrix_normalized.png").is_file() and (run / "iou_per_class.png").is_file()


def test_bad_slide_window_is_a_clear_error(trained_run):
    p = run_cli("semseg", "val", f"model={trained_run / 'weights' / 'best.pt'}", "slide_window=50", check=False)
    assert p.returncode and "slide_window=[50, 50] must be multiples of 32" in p.stderr


def test_no_argument_commands_agree(toy_data, tmp_path):
    """`yolo semseg train|val|predict` without model= or data= agree: packaged weights, built-in dataset.

    Train gets only what keeps it short (its defaults are 100 epochs at 640); val and predict get no argument at all.
    """
    out = {}
    for mode in ("val", "predict"):
        p = run_cli("semseg", mode, cwd=tmp_path)
        out[mode] = p.stdout + p.stderr
    val = out["val"]
    assert "has the first 8 of yolo11n-semseg.pt's 14 classes" in val
    line = next(x for x in val.splitlines() if x.strip().startswith("all"))
    assert float(line.split()[3]) > 0.7  # mIoU of the packaged weights on the built-in streets (model card: 0.79)
    pred = out["predict"]
    images = [x for x in pred.splitlines() if x.startswith("image ")]
    assert len(images) == len(list(Path(toy_data["val"]).glob("*.jpg")))  # the built-in validation images
    assert all(f"{Path(toy_data['val'])}" in x for x in images)
    assert "aerial" not in "\n".join(images)  # street scenes come out as street classes
    assert pred.count("is the packaged start for fine-tuning") == 1  # one line, not one per image
    assert "bus.jpg" not in pred
    # predict with the built-in dataset named: the same first-classes rule as val, not a class-mismatch error
    image = sorted(Path(toy_data["val"]).glob("*.jpg"))[0]
    p = run_cli("semseg", "predict", "data=synthetic-streets.yaml", f"source={image}", cwd=tmp_path, check=False)
    assert p.returncode == 0 and "has the first 8 of yolo11n-semseg.pt's 14 classes" in p.stdout + p.stderr, p.stderr
    p = run_cli("semseg", "train", "epochs=1", "imgsz=64", "batch=16", "fraction=0.25", "plots=False", "val=False",
                f"project={tmp_path / 'runs'}", "name=t", cwd=tmp_path)  # fmt: skip
    args = (tmp_path / "runs" / "t" / "args.yaml").read_text()
    assert "model: yolo11n-semseg.pt" in args and "data: synthetic-streets.yaml" in args
    assert "is the packaged start" not in p.stdout + p.stderr  # the note is for prediction
