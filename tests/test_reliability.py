"""Bad input a user hits in the first week (issue 11), through the real `yolo` command on small generated datasets.

Each test asserts the message the user sees and that no file the user owns changed (hashes before and after). The
table in docs/reliability.md lists every case with its test.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import YOLO, run_cli

from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets

TRAIN = ("epochs=1", "imgsz=64", "batch=4", "nbs=4", "workers=0", "plots=False", "exist_ok=True", "device=cpu")


def hashes(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under `roots` (the user's files; our `.semseg.cache` files are new, never changed)."""
    files = [p for r in roots for p in ([r] if r.is_file() else r.rglob("*")) if p.is_file()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if not p.name.endswith(".cache")}


def make_dataset(root: Path, names: dict | list | None = None, n_train: int = 8, n_val: int = 4) -> Path:
    """A copy of the toy street scenes at 64x128 under `root`, with its data YAML; returns the YAML path."""
    ds = generate_synthetic_streets(root / "toy", n_train=n_train, n_val=n_val, height=64, width=128, seed=1)
    yaml = root / "data.yaml"
    yaml.write_text(f"path: {ds}\ntrain: images/train\nval: images/val\nnames: {names or dict(STREET_NAMES)}\n")
    return yaml


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    """(data YAML, best.pt of one epoch on it): an 8-class model of the toy scenes, small and fast."""
    root = tmp_path_factory.mktemp("tiny")
    yaml = make_dataset(root)
    run_cli("semseg", "train", "model=yolo11n-semseg.yaml", f"data={yaml}", *TRAIN, f"project={root}", "name=run")
    return yaml, root / "run" / "weights" / "best.pt"


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


# Row 1 and 2: damaged images ------------------------------------------------------------------------------------------


def test_truncated_jpeg_is_skipped_by_train_val_and_check(tmp_path, tiny):
    """A JPEG cut in half: named as truncated/corrupt once by the pair scan, skipped, training and val go on."""
    yaml = make_dataset(tmp_path)
    images = tmp_path / "toy" / "images"
    bad_train, bad_val = images / "train" / "toy_00002.jpg", images / "val" / "toy_00001.jpg"
    cut_in_half(bad_train)
    cut_in_half(bad_val)
    before = hashes(tmp_path / "toy", yaml)
    words = "truncated JPEG image: the file ends inside its image data"

    p = run_cli("semseg", "train", f"model={tiny[1]}", f"data={yaml}", *TRAIN, f"project={tmp_path}", "name=t")
    out = p.stdout + p.stderr
    assert f"train: Skipping {bad_train}: {words}" in out
    assert f"val: Skipping {bad_val}: {words}" in out
    assert "Image Not Found" not in out and "NoneType" not in out
    assert (tmp_path / "t" / "weights" / "best.pt").is_file()

    p = run_cli("semseg", "val", f"model={tmp_path / 't' / 'weights' / 'best.pt'}", f"data={yaml}",
                f"project={tmp_path}", "name=v", "plots=False")  # fmt: skip
    out = p.stdout + p.stderr
    assert f"Skipping {bad_val}: {words}" in out
    assert next(x for x in out.splitlines() if x.strip().startswith("all")).split()[1] == "3"  # 3 of 4 images

    p = run_cli("-m", "ultralytics_semseg.data.check", str(yaml), cmd=sys.executable, check=False)
    assert p.returncode == 1
    assert f"ERROR {bad_train}: {words}" in p.stdout and f"ERROR {bad_val}: {words}" in p.stdout
    assert hashes(tmp_path / "toy", yaml) == before  # never re-saved, unlike Ultralytics' detection scan


def test_random_bytes_jpeg_is_not_a_readable_image(tmp_path, tiny):
    yaml = make_dataset(tmp_path)
    bad = tmp_path / "toy" / "images" / "val" / "toy_00000.jpg"
    bad.write_bytes(os.urandom(3000).replace(b"\xff\xd8", b"\x00\x00"))
    before = hashes(tmp_path / "toy", yaml)
    words = "not a readable image: its 3000 bytes are in no image format OpenCV or Pillow decodes"

    p = run_cli("semseg", "val", f"model={tiny[1]}", f"data={yaml}", f"project={tmp_path}", "name=v", "plots=False")
    out = p.stdout + p.stderr
    assert f"Skipping {bad}: {words}" in out
    assert "pi_heif" not in out and "pi-heif" not in out
    p = run_cli("-m", "ultralytics_semseg.data.check", str(yaml), cmd=sys.executable, check=False)
    assert f"ERROR {bad}: {words}" in p.stdout
    assert hashes(tmp_path / "toy", yaml) == before


def test_check_reports_what_training_skips_in_the_same_words(tmp_path):
    """`python -m ultralytics_semseg.data.check` and the dataset training builds share one verification."""
    import cv2
    import numpy as np
    from ultralytics.utils import LOGGER

    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.data.check import check_dataset
    from ultralytics_semseg.data.dataset import SemSegDataset

    yaml = make_dataset(tmp_path)
    toy = tmp_path / "toy"
    cut_in_half(toy / "images" / "train" / "toy_00000.jpg")
    (toy / "images" / "train" / "toy_00001.jpg").write_bytes(b"")
    (toy / "masks" / "train" / "toy_00002.png").unlink()
    cv2.imwrite(str(toy / "masks" / "train" / "toy_00003.png"), np.full((64, 128), 9, np.uint8))
    cv2.imwrite(str(toy / "masks" / "train" / "toy_00004.png"), np.zeros((60, 128), np.uint8))
    data = check_semseg_dataset(yaml)
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    LOGGER.addHandler(handler)
    try:
        SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=_args())
    finally:
        LOGGER.removeHandler(handler)
    skipped = {r.getMessage().split("Skipping ", 1)[1] for r in records if "Skipping " in r.getMessage()}
    (report,) = check_dataset(yaml, splits=("train",))
    assert len(skipped) == 5 and skipped == set(report.errors)
    assert any("the file is empty (0 bytes)" in m for m in skipped)


def _args(**kw):
    from ultralytics.cfg import get_cfg

    from ultralytics_semseg.cfg import load_defaults

    return get_cfg(overrides={**load_defaults(), "imgsz": 64, **kw})


def test_bad_masks_are_named_by_val_and_check(tmp_path, tiny):
    """What already worked before issue 11 stays so: each bad mask is named with its problem, the pair skipped."""
    import cv2
    import numpy as np

    yaml = make_dataset(tmp_path, n_val=6)
    masks = tmp_path / "toy" / "masks" / "val"
    cut_in_half(masks / "toy_00000.png")
    cv2.imwrite(str(masks / "toy_00001.png"), np.zeros((60, 128), np.uint8))
    cv2.imwrite(str(masks / "toy_00002.png"), np.full((64, 128), 9, np.uint8))
    (masks / "toy_00003.png").unlink()
    cv2.imwrite(str(masks / "toy_00004.png"), np.zeros((64, 128, 3), np.uint8))
    before = hashes(tmp_path / "toy", yaml)
    problems = [
        f"{masks / 'toy_00000.png'}: truncated mask: the file ends inside its image data (IDAT)",
        f"{masks / 'toy_00001.png'}: mask size 128x60 differs from image size 128x64",
        f"{masks / 'toy_00002.png'}: class ids [9] are not dataset classes 0..7 nor 255 (ignore)",
        f"toy_00003.jpg: mask not found at {masks / 'toy_00003.png'}",
        f"{masks / 'toy_00004.png'}: mask is a RGB colour image, expected single-channel class ids",
    ]
    p = run_cli("semseg", "val", f"model={tiny[1]}", f"data={yaml}", f"project={tmp_path}", "name=v", "plots=False")
    out = p.stdout + p.stderr
    assert all(x in out for x in problems), out
    assert next(x for x in out.splitlines() if x.strip().startswith("all")).split()[1] == "1"
    p = run_cli("-m", "ultralytics_semseg.data.check", str(yaml), cmd=sys.executable, check=False)
    assert p.returncode == 1 and all(x in p.stdout for x in problems)
    assert hashes(tmp_path / "toy", yaml) == before


def test_second_run_without_exist_ok_leaves_the_first_untouched(tmp_path, tiny):
    yaml, best = tiny
    before = hashes(best.parent.parent)
    p = run_cli("semseg", "train", f"model={best}", f"data={yaml}", *TRAIN[:-2], f"project={best.parent.parent.parent}",
                "name=run", "device=cpu")  # fmt: skip
    assert "run-2" in p.stdout + p.stderr
    assert (best.parent.parent.parent / "run-2" / "weights" / "best.pt").is_file()
    assert hashes(best.parent.parent) == before


# Row 3: a model of other classes --------------------------------------------------------------------------------------


# (a dataset of the model's first classes, e.g. road..sky of these 8, is scored: tests/test_cli.py, no-argument val)
@pytest.mark.parametrize("names", [["road", "sidewalk", "building", "vegetation", "car"], ["a", "b"]])
def test_val_and_predict_refuse_a_dataset_of_other_classes(tmp_path, tiny, names):
    yaml = make_dataset(tmp_path, names=names)
    before = hashes(tmp_path / "toy", yaml, tiny[1])
    p = run_cli("semseg", "val", f"model={tiny[1]}", f"data={yaml}", f"project={tmp_path}", "name=v", check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert f"{tiny[1]} has 8 classes but {yaml} has {len(names)}; class ids must mean the same in both:" in out
    assert "     id  best.pt" in out and "data.yaml" in out  # the two lists side by side
    assert f"  *   {len(names)}  {STREET_NAMES[len(names)]}" in out  # first id only the model has, marked
    assert not list((tmp_path / "toy").rglob("*.cache"))  # refused before scanning a single pair

    src = tmp_path / "toy" / "images" / "val" / "toy_00000.jpg"
    p = run_cli("semseg", "predict", f"model={tiny[1]}", f"data={yaml}", f"source={src}", f"project={tmp_path}",
                "name=p", check=False)  # fmt: skip
    assert p.returncode != 0
    assert f"has 8 classes but {yaml} has {len(names)}" in p.stdout + p.stderr
    assert hashes(tmp_path / "toy", yaml, tiny[1]) == before


def test_renamed_classes_warn_and_reordered_classes_fail(tmp_path, tiny):
    """Same classes with one renamed: a warning, ids matched by position. Same names reordered: an error."""
    names = dict(STREET_NAMES)
    names[1] = "pavement"
    yaml = make_dataset(tmp_path, names=names)
    p = run_cli("semseg", "val", f"model={tiny[1]}", f"data={yaml}", f"project={tmp_path}", "name=v", "plots=False")
    out = p.stdout + p.stderr
    assert "name some of their 8 classes differently; ids are matched by position" in out
    assert f"  *   1  {STREET_NAMES[1]}" in out and "pavement" in out

    names = dict(STREET_NAMES)
    names[0], names[1] = names[1], names[0]
    yaml = make_dataset(tmp_path, names=names)
    p = run_cli("semseg", "val", f"model={tiny[1]}", f"data={yaml}", f"project={tmp_path}", "name=v2", check=False)
    assert p.returncode != 0
    assert "have the same 8 classes in a different order" in p.stdout + p.stderr


# Row 8: predict summary -----------------------------------------------------------------------------------------------


def test_predict_save_txt_counts_pngs_and_names_unreadable_sources(tmp_path, tiny):
    src = tmp_path / "src"
    shutil.copytree(tiny[0].parent / "toy" / "images" / "val", src)
    (src / "empty.jpg").write_bytes(b"")
    before = hashes(src, tiny[1])
    p = run_cli("semseg", "predict", f"model={tiny[1]}", f"source={src}", "save_txt=True", f"project={tmp_path}",
                "name=p")  # fmt: skip
    out = p.stdout + p.stderr
    labels = tmp_path / "p" / "labels"
    assert len(list(labels.glob("*.png"))) == 4
    assert f"4 class-id PNGs saved to {labels}" in out and " label saved" not in out, (
        "compat.predict_label_summary no longer matches the closing line of Ultralytics' BasePredictor.stream_inference"
    )
    assert "1 of 5 source images could not be read, no prediction for them:" in out
    assert f"{src / 'empty.jpg'}: not a readable image: the file is empty (0 bytes)" in out
    assert hashes(src, tiny[1]) == before

    p = run_cli("semseg", "predict", f"model={tiny[1]}", f"source={src / 'empty.jpg'}", f"project={tmp_path}",
                "name=p2", check=False)  # fmt: skip
    assert p.returncode != 0  # nothing could be read: an error, not an empty success
    assert "1 of 1 source images could not be read" in p.stdout + p.stderr


# Row 5: kill and resume -----------------------------------------------------------------------------------------------


def _results(run: Path) -> list[dict[str, float]]:
    with open(run / "results.csv") as f:
        return [{k.strip(): float(v) for k, v in row.items() if k.strip() != "time"} for row in csv.DictReader(f)]


def test_killed_and_resumed_run_reproduces_the_uninterrupted_run(tmp_path):
    """SIGKILL after epoch 2 of 4, `yolo semseg train resume`: every epoch's losses and metrics, and the final
    weights, exactly as without the kill (CPU training loads in the main process: Ultralytics sets workers=0).

    The hard case: gradient accumulation over 3 batches (batch 2, nbs 6) with 4 batches per epoch, so gradients are
    pending at the kill, inside a 3-epoch warm-up whose accumulation ramps up per batch.
    """
    yaml = make_dataset(tmp_path)
    args = ["semseg", "train", "model=yolo11n-semseg.yaml", f"data={yaml}", "epochs=4", "imgsz=64", "batch=2",
            "nbs=6", "warmup_epochs=3", "seed=3", "save_period=1", "plots=False", f"project={tmp_path}",
            "exist_ok=True", "device=cpu"]  # fmt: skip
    run_cli(*args, "name=full")

    proc = subprocess.Popen([YOLO, *args, "name=killed"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    weights = tmp_path / "killed" / "weights"
    while not (weights / "epoch1.pt").exists() and proc.poll() is None:  # written after last.pt of epoch 2
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ckpt = torch.load(weights / "last.pt", weights_only=False)
    assert ckpt["epoch"] == 1 and ckpt["optimizer"]["semseg_resume"]["pending_grads"]
    assert len(_results(tmp_path / "killed")) == 2
    before = hashes(tmp_path / "toy", yaml)

    p = run_cli("semseg", "train", "resume", f"model={weights / 'last.pt'}")
    out = p.stdout + p.stderr
    assert (
        "Resuming training" in out
        and "Restored the exact model, EMA, optimizer, gradient and random states of epoch 2" in out
    )
    assert "Resume ignores" not in out
    full, resumed = _results(tmp_path / "full"), _results(tmp_path / "killed")
    assert len(full) == len(resumed) == 4
    for a, b in zip(full, resumed):  # relies on BaseTrainer's resume_training / optimizer_step / accumulate hooks
        assert a.keys() == b.keys()
        assert max(abs(a[k] - b[k]) for k in a) <= 1e-4, ("resumed run diverged", a, b)
    final = [torch.load(d / "weights" / "last.pt", weights_only=False) for d in (tmp_path / "full", weights.parent)]
    assert final[1]["optimizer"] is None  # stripped at the end: the FP32 resume state does not stay in last.pt
    for (k, x), y in zip(final[0]["model"].state_dict().items(), final[1]["model"].state_dict().values()):
        assert torch.equal(x, y), k
    assert hashes(tmp_path / "toy", yaml) == before


def test_training_batches_depend_on_epoch_not_on_workers_or_history(tmp_path):
    """The seeded sampler: epoch 1's batches with 2 workers equal those with none, and those of a loader that starts
    at epoch 1 (a resumed run), crops, flips and colour jitter included."""
    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.models.train import SemSegTrainer

    yaml = make_dataset(tmp_path)
    over = {"model": "yolo11n-semseg.yaml", "data": str(yaml), "imgsz": 64, "seed": 5, "project": str(tmp_path)}
    trainer = SemSegTrainer(overrides=over)
    trainer.data = check_semseg_dataset(yaml)

    def epochs(workers: int, start: int, n: int) -> list[torch.Tensor]:
        trainer.args.workers, trainer.start_epoch = workers, start
        loader = trainer.get_dataloader(trainer.data["train"], 4, rank=-1, mode="train")
        out = [
            torch.cat([torch.cat([b["img"].flatten(), b["semseg_mask"].flatten()]) for b in loader]) for _ in range(n)
        ]
        loader.close()
        return out

    zero = epochs(0, 0, 2)
    two = epochs(2, 0, 2)
    resumed = epochs(0, 1, 1)
    assert not torch.equal(zero[0], zero[1])  # epochs differ from each other
    assert torch.equal(zero[0], two[0]) and torch.equal(zero[1], two[1])
    assert torch.equal(zero[1], resumed[0])


def test_rare_class_sampling_draws_rare_class_images_more_and_resumes_exactly(tmp_path):
    """`rare_class_sampling=0.01`: images holding a class that 3 of 24 images hold fill far more of an epoch than their
    share of the split; the order is still fixed by (seed, epoch), so a loader starting at epoch 1 draws epoch 1."""
    import cv2
    import numpy as np

    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.models.train import SemSegTrainer

    yaml = make_dataset(tmp_path, n_train=24)
    rare_class, masks = 5, sorted((tmp_path / "toy" / "masks" / "train").glob("*.png"))
    for f in masks[3:]:  # the rare class stays in 3 of the 24 training images only
        m = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(f), np.where(m == rare_class, 0, m).astype(m.dtype))
    over = {"model": "yolo11n-semseg.yaml", "data": str(yaml), "imgsz": 64, "seed": 5, "project": str(tmp_path)}

    def epochs(temperature: float, start: int, n: int) -> tuple[list[list[int]], np.ndarray]:
        trainer = SemSegTrainer(overrides={**over, "rare_class_sampling": temperature})
        trainer.data, trainer.start_epoch = check_semseg_dataset(yaml), start
        loader = trainer.get_dataloader(trainer.data["train"], 4, rank=-1, mode="train")
        counts = np.stack([x["counts"] for x in loader.dataset.labels])
        orders = [[i for i, _ in trainer.train_sampler] for _ in range(n)]
        loader.close()
        return orders, counts

    (uniform,), counts = epochs(0.0, 0, 1)
    rare, _ = epochs(0.01, 0, 2)
    resumed, _ = epochs(0.01, 1, 1)
    holders = set(np.flatnonzero(counts[:, rare_class]).tolist())
    assert sorted(uniform) == list(range(len(counts)))  # off: a permutation, as without the option
    assert len(holders) == 3
    share_uniform = sum(i in holders for i in uniform) / len(uniform)
    share_rare = sum(i in holders for o in rare for i in o) / (2 * len(uniform))
    assert share_rare > 1.5 * share_uniform, (share_rare, share_uniform)
    assert rare[0] != rare[1] and resumed[0] == rare[1]
    with pytest.raises(ValueError, match="rare-class sampling temperature -0.1 must be > 0"):
        epochs(-0.1, 0, 1)  # refused, not silently turned off
