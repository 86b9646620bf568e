"""Faults of issue 21: truncated images of every kind, killed saves, full disks, two runs in one folder, huge images.

docs/reliability.md lists each case with the message the user sees and the test that keeps it so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_noise_dataset, run_cli

CUTS = (0.10, 0.50, 0.95)
KINDS = {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF"}


def hashes(root: Path) -> dict[str, str]:
    """SHA-256 of the user's files under `root` (our `.semseg.cache` files excluded)."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".cache")
    }


def image_dataset(root: Path, n_val: int = 2, extra_yaml: str = "") -> Path:
    """64x96 smooth images in every kind (.jpg, .png, .tif), 3-class id masks; returns the data YAML."""
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "masks" / split).mkdir(parents=True)
    stems = [(f"{k[1:]}_{int(c * 100):02d}", k) for k in KINDS for c in (*CUTS, 1.0)]
    for split, names in (("train", stems), ("val", [(f"v{i}", ".jpg") for i in range(n_val)])):
        for stem, suffix in names:
            img = cv2.GaussianBlur(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8), (9, 9), 3)
            cv2.imwrite(str(root / "images" / split / f"{stem}{suffix}"), img)
            cv2.imwrite(str(root / "masks" / split / f"{stem}.png"), rng.integers(0, 3, (64, 96), dtype=np.uint8))
    yaml = root / "data.yaml"
    yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: [a, b, c]\n{extra_yaml}")
    return yaml


def cut(path: Path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def cut_all(root: Path) -> dict[Path, str]:
    """Cut each kind's image at 10, 50 and 95 %; return {file: its format}."""
    out = {}
    for suffix, fmt in KINDS.items():
        for c in CUTS:
            f = root / "images" / "train" / f"{suffix[1:]}_{int(c * 100):02d}{suffix}"
            cut(f, c)
            out[f] = fmt
    return out


def _dataset_warnings(data: dict) -> list[str]:
    from ultralytics.cfg import get_cfg
    from ultralytics.utils import LOGGER

    from ultralytics_semseg.cfg import load_defaults
    from ultralytics_semseg.data.dataset import SemSegDataset

    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    LOGGER.addHandler(handler)
    try:
        hyp = get_cfg(overrides={**load_defaults(), "imgsz": 64})
        ds = SemSegDataset(data["train"], data=data, imgsz=64, augment=False, hyp=hyp)
    finally:
        LOGGER.removeHandler(handler)
    return [r.getMessage() for r in records], ds


# Row 1: truncated images ----------------------------------------------------------------------------------------------


def test_truncated_images_of_every_kind_are_named_once_and_skipped(tmp_path):
    """JPEG, PNG and TIFF cut at 10, 50 and 95 %: each named by the scan and by data.check, skipped, never rewritten.

    The 50 and 95 % JPEG cuts decode in OpenCV (a grey lower half, 'Premature end of JPEG file'); before issue 21
    they were used with their full masks.
    """
    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.data.check import check_dataset

    yaml = image_dataset(tmp_path)
    bad = cut_all(tmp_path)
    assert cv2.imread(str(next(f for f in bad if f.name == "jpg_95.jpg"))) is not None  # the decoder does not object
    before = hashes(tmp_path)

    warnings, ds = _dataset_warnings(check_semseg_dataset(yaml))
    skipped = [m.split("Skipping ", 1)[1] for m in warnings if "Skipping " in m]
    assert sorted(m.split(":")[0] for m in skipped) == sorted(map(str, bad)), skipped  # each named once
    for f, fmt in bad.items():
        assert any(m.startswith(f"{f}: truncated {fmt} image: the file ends") for m in skipped), (f, skipped)
    assert sorted(ds.im_files) == sorted(str(p) for p in (tmp_path / "images" / "train").iterdir() if p not in bad)

    (report,) = check_dataset(yaml, splits=("train",))
    assert sorted(report.errors) == sorted(skipped)  # data.check says what training skips, in the same words
    p = run_cli("-m", "ultralytics_semseg.data.check", str(yaml), cmd=sys.executable, check=False)
    assert p.returncode == 1 and all(f"ERROR {m}" in p.stdout for m in skipped), p.stdout
    assert "9 errors" in p.stdout
    assert hashes(tmp_path) == before


def test_old_cache_rescans_and_truncated_keep_flag(tmp_path, monkeypatch):
    """A cache of the scan before issue 21 (it passed a 95 % JPEG) is not trusted; `truncated: keep` keeps, warning."""
    from ultralytics.data.utils import get_hash, save_dataset_cache_file

    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.data.dataset import CACHE_VERSION
    from ultralytics_semseg.data.formats import label_format_for

    yaml = image_dataset(tmp_path)
    jpg95 = tmp_path / "images" / "train" / "jpg_95.jpg"
    cut(jpg95, 0.95)
    data = check_semseg_dataset(yaml)
    files = sorted(str(p) for p in (tmp_path / "images" / "train").iterdir())
    fmt = label_format_for(data)
    masks = fmt.label_files(files)
    old = {"hash": get_hash([*masks, *files]) + fmt.cache_key(), "msgs": []}
    old["labels"] = [
        {"im_file": f, "mask_file": m, "shape": (64, 96), "counts": np.ones(3)} for f, m in zip(files, masks)
    ]
    cache = tmp_path / "masks" / "train.semseg.cache"
    save_dataset_cache_file("", cache, old, "semseg-1.2")  # what the scan before issue 21 wrote
    assert CACHE_VERSION != "semseg-1.2"
    warnings, ds = _dataset_warnings(data)
    assert any(f"Skipping {jpg95}: truncated JPEG image" in m for m in warnings)
    assert str(jpg95) not in ds.im_files

    yaml.write_text(yaml.read_text() + "truncated: keep\n")
    before = hashes(tmp_path)
    # Ultralytics' reader (8.4.190, OpenCV 5) returns None for a cut JPEG, so even 'keep' skips it, saying so
    warnings, ds = _dataset_warnings(check_semseg_dataset(yaml))  # the flag is part of the cache key: rescanned
    assert any(f"Skipping {jpg95}: truncated/corrupt JPEG image: the header is valid but" in m for m in warnings)
    # a reader that decodes it (cv2.imread does: libjpeg's 'Premature end of JPEG file' and a grey lower half)
    monkeypatch.setattr("ultralytics.utils.imread", lambda f, flags=cv2.IMREAD_COLOR: cv2.imread(str(f), flags))
    (tmp_path / "masks" / "train.semseg.cache").unlink()
    warnings, ds = _dataset_warnings(check_semseg_dataset(yaml))
    kept = [m for m in warnings if str(jpg95) in m]
    assert len(kept) == 1 and "kept because the dataset YAML sets 'truncated: keep'" in kept[0], warnings
    assert f"WARNING ⚠️ {jpg95}: truncated JPEG image: the file ends inside its image data" in kept[0]
    assert str(jpg95) in ds.im_files
    assert hashes(tmp_path) == before

    yaml.write_text(yaml.read_text().replace("truncated: keep", "truncated: maybe"))
    with pytest.raises(ValueError, match="'truncated' must be 'skip' \\(the default\\) or 'keep'"):
        check_semseg_dataset(yaml)


# Row 2: checkpoints written atomically, kills while saving, truncated checkpoints -------------------------------------

KILLER = Path(__file__).with_name("_save_kill.py")


def _rows(run: Path) -> list[dict[str, float]]:
    import csv

    with open(run / "results.csv") as f:
        return [{k: float(v) for k, v in r.items() if k != "time"} for r in csv.DictReader(f)]


def _killed(step: str, name: str, n: int, *args: str) -> None:
    """Run `yolo *args` with a SIGKILL at the n-th `step` of `name`'s save; assert that it was killed there."""
    import signal
    import subprocess

    p = subprocess.run([sys.executable, str(KILLER), step, name, str(n), *args], capture_output=True, text=True)
    assert p.returncode == -signal.SIGKILL, f"not killed at {step} {name} #{n}: rc {p.returncode}\n{p.stderr[-3000:]}"


def _train_args(root: Path) -> list[str]:
    return ["semseg", "train", "model=yolo11n-semseg.yaml", f"data={root / 'data.yaml'}", "epochs=2", "imgsz=32",
            "batch=2", "seed=1", "plots=False", "workers=0", "save_period=1", f"project={root}", "exist_ok=True",
            "device=cpu"]  # fmt: skip


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> Path:
    """A 2-epoch run on 32 px `make_noise_dataset` data, checkpoints each epoch; its folder (data beside it)."""
    root = tmp_path_factory.mktemp("faults")
    make_noise_dataset(root, size=32)
    run_cli(*_train_args(root), "name=full")
    return root / "full"


def test_kills_while_saving_leave_intact_checkpoints_and_resume_exactly(full_run):
    """SIGKILL at three points of the saves: while results.csv, while last.pt (temporary file written, not renamed)
    and while the final last.pt is rewritten (optimizer stripped). After each, every checkpoint loads; resuming twice
    gives every epoch's row of the uninterrupted run exactly.
    """
    import torch

    from ultralytics_semseg.utils.files import checkpoint_problem

    tmp_path = full_run.parent
    args = _train_args(tmp_path)
    run, weights = tmp_path / "killed", tmp_path / "killed" / "weights"

    def intact() -> dict:
        for f in weights.glob("*.pt"):
            assert checkpoint_problem(f) is None, f
        return torch.load(weights / "last.pt", weights_only=False)

    _killed("rename", "results.csv", 2, *args, "name=killed")  # epoch 2's row: last.pt of epoch 1 stays
    assert intact()["epoch"] == 0 and len(_rows(run)) == 1
    resume = ["semseg", "train", "resume", f"model={weights / 'last.pt'}"]
    _killed("write", "last.pt", 1, *resume)  # epoch 2's row is saved, its last.pt not
    assert intact()["epoch"] == 0 and len(_rows(run)) == 2
    assert list(weights.glob(".*.partial"))  # the killed process's temporary file, never renamed
    _killed("rename", "last.pt", 2, *resume)  # epoch 2 ends; killed while the optimizer is stripped from last.pt
    ckpt = intact()
    assert ckpt["epoch"] == 1 and ckpt["optimizer"] is not None  # the complete epoch-2 checkpoint, not half of it
    assert not list(weights.glob(".*.partial"))[1:]  # stale ones of dead processes are removed by the next save
    full, resumed = _rows(full_run), _rows(run)
    assert len(full) == len(resumed) == 2
    for a, b in zip(full, resumed):
        assert max(abs(a[k] - b[k]) for k in a) <= 1e-4, ("resumed run diverged", a, b)


def test_truncated_checkpoint_is_a_named_error_naming_the_intact_ones(tmp_path, full_run):
    """A last.pt cut short (an older version's killed save, an interrupted copy) given to val, predict and resume."""
    import shutil

    from ultralytics import YOLO

    from ultralytics_semseg.models.train import SemSegTrainer
    from ultralytics_semseg.utils.files import CorruptCheckpointError, require_intact_checkpoint

    shutil.copytree(full_run, tmp_path / "r")
    weights = tmp_path / "r" / "weights"
    last, epoch0 = weights / "last.pt", weights / "epoch0.pt"
    epoch0.write_bytes(epoch0.read_bytes()[:-5000])  # cut near its end: the zip index is lost
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    expected = f"{last}: truncated or corrupt checkpoint: the file ends before the end of its zip"
    intact = f"Intact checkpoints in {weights}, newest first: "

    p = run_cli("semseg", "val", f"model={last}", check=False)
    out = p.stdout + p.stderr
    assert p.returncode == 1 and "Traceback" not in out, out[-3000:]
    assert f"semseg error: {expected}" in out and intact in out, out[-3000:]
    names = out.split(intact, 1)[1].split(". Use one")[0]
    assert "best.pt (" in names and "epoch1.pt (" in names and "epoch0.pt" not in names, names
    for load in (
        lambda: YOLO(last).predict(full_run.parent / "images" / "val"),  # a semseg run folder: args.yaml says so
        lambda: SemSegTrainer(overrides={"resume": str(last)}),
    ):
        with pytest.raises(CorruptCheckpointError, match=intact):
            load()
    with pytest.raises(CorruptCheckpointError, match="truncated or corrupt checkpoint"):
        require_intact_checkpoint(epoch0)


# Row 3: a full disk ---------------------------------------------------------------------------------------------------


def _file_size_limit(limit: int):
    """preexec_fn: a file size limit (as `ulimit -f`), with SIGXFSZ ignored so that write() fails with EFBIG."""
    import resource
    import signal

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_while_saving_a_checkpoint_is_a_named_error(tmp_path, full_run):
    """Training into a folder with a finished run, a file size limit of 8 MB (its checkpoints are 36 MB): exit 1, one
    error block naming the file, no traceback; the earlier run's last.pt unchanged, no temporary file left."""
    import shutil
    import subprocess

    from conftest import YOLO

    shutil.copytree(full_run, tmp_path / "d")
    weights = tmp_path / "d" / "weights"
    before = hashes(weights)
    args = [a for a in _train_args(full_run.parent) if not a.startswith("project=")]
    p = subprocess.run(
        [YOLO, *args, f"project={tmp_path}", "name=d"],
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(8 << 20),
        timeout=600,
    )
    out = p.stdout + p.stderr
    assert p.returncode == 1 and "Traceback" not in out, out[-3000:]
    assert (
        f"semseg error: no space left on the device of {weights} while writing the checkpoint {weights / 'last.pt'} "
        "(a file size limit (ulimit -f) was reached); last.pt is as it was before." in out
    ), out[-3000:]
    assert hashes(weights) == before and not list(weights.glob(".*"))


# Row 4: two runs into one folder --------------------------------------------------------------------------------------


def test_second_run_into_a_busy_folder_refuses_and_a_killed_runs_lock_is_not_stale(tmp_path, full_run):
    """A live run holds `<run>/.semseg.lock`: a second `yolo semseg train ... exist_ok=True` into the folder refuses
    before touching a file, naming the first (pid, command). Once the first is killed (SIGKILL), the folder is free."""
    import shutil
    import signal
    import subprocess

    from ultralytics_semseg.models.train import SemSegTrainer

    run = tmp_path / "busy"
    shutil.copytree(full_run, run)
    code = "import sys,time; from ultralytics_semseg.utils.files import RunLock; RunLock(sys.argv[1]).acquire(); "
    code += "print('locked', flush=True); time.sleep(120)"
    first = subprocess.Popen([sys.executable, "-c", code, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "locked"
        before = hashes(run)
        args = [a for a in _train_args(full_run.parent) if not a.startswith("project=")]
        p = run_cli(*args, f"project={tmp_path}", "name=busy", check=False)
        out = p.stdout + p.stderr
        assert p.returncode == 1 and "Traceback" not in out, out[-3000:]
        assert f"semseg error: {run} is in use by another run: pid {first.pid} on " in out, out[-3000:]
        assert f"-c {run}" in out  # its command line
        assert hashes(run) == before  # args.yaml and results.csv of the folder untouched
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    overrides = {"model": "yolo11n-semseg.yaml", "data": str(full_run.parent / "data.yaml"), "project": str(tmp_path)}
    trainer = SemSegTrainer(overrides={**overrides, "name": "busy", "exist_ok": True, "device": "cpu"})
    assert trainer.save_dir == run  # the lock of the killed run does not count
    probe = "import sys; from ultralytics_semseg.utils.files import RunLock; RunLock(sys.argv[1]).acquire()"
    p = subprocess.run([sys.executable, "-c", probe, str(run)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and f"is in use by another run: pid {os.getpid()} " in p.stderr  # this trainer's lock
    trainer._run_lock.release()
    p = subprocess.run([sys.executable, "-c", probe, str(run)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


# Row 5: huge images ---------------------------------------------------------------------------------------------------


def test_image_over_the_memory_budget_is_a_named_error_in_predict_and_val(tmp_path, full_run, monkeypatch):
    """A 3000x3000 JPEG with a 0.1 GB budget (the 12,000 x 12,000 case of docs/reliability.md, scaled down)."""
    from ultralytics import YOLO

    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.utils.memory import MemoryBudgetError

    make_noise_dataset(tmp_path, n_train=1, n_val=1, size=32)
    big = tmp_path / "images" / "val" / "big.jpg"
    cv2.imwrite(str(big), np.zeros((3000, 3000, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "masks" / "val" / "big.png"), np.zeros((3000, 3000), np.uint8))
    model = YOLO(full_run / "weights" / "best.pt")
    small = tmp_path / "images" / "val" / "0.jpg"
    assert model.predict(small, verbose=False)[0].semseg.data.shape == (32, 32)  # within the budget: predicted
    monkeypatch.setenv("YOLO_SEMSEG_MEMORY_GB", "0.1")
    words = f"{big}: image of 3000x3000 pixels (9 MP) is too large for %s at its original resolution with 3 classes"
    with pytest.raises(MemoryBudgetError, match=re.escape(words % "predicting")):
        model.predict(big, verbose=False)
    with pytest.raises(MemoryBudgetError, match=re.escape(words % "validation")):
        _dataset_warnings({**check_semseg_dataset(tmp_path / "data.yaml"), "train": str(tmp_path / "images" / "val")})


# Row 6: long streams --------------------------------------------------------------------------------------------------


def test_stream_memory_benchmark_short_run(tmp_path):
    """benchmarks/stream_memory.py on 120 frames (the committed measurement streams 2,000): RSS flat after warm-up."""
    p = run_cli(
        str(Path(__file__).parents[1] / "benchmarks" / "stream_memory.py"),
        *("--frames", "120", "--warmup", "40", "--every", "20", "--size", "128", "--imgsz", "128"),
        cmd=sys.executable,
        cwd=tmp_path,
    )
    import json

    result = json.loads(p.stdout[p.stdout.index("{") :])
    assert result["frames"] == 120 and len(result["samples"]) == 6
    assert result["growth_percent"] < 5, result


def test_full_disk_while_saving_prediction_pngs_is_a_named_error(tmp_path):
    """Class-map PNGs (save_txt) and overlays (`SemSegResults.plot(save=True)`) under a 4 KB file size limit: a
    DiskFullError naming the file, no partial file (cv2.imwrite used to fail silently, PIL to leave a cut PNG)."""
    import subprocess
    import sys

    code = f"""
import numpy as np
from pathlib import Path
from ultralytics_semseg.utils.files import DiskFullError
from ultralytics_semseg.utils.plotting import save_class_png
from ultralytics_semseg.engine.results import SemSegResults
out = Path({str(tmp_path)!r})
mask = np.random.default_rng(0).integers(0, 8, (256, 512)).astype(np.uint8)
save_class_png(mask[:8, :8], out / "small.png")  # fits
for what, write in (("class-map PNG", lambda: save_class_png(mask, out / "big.png")),
                    ("overlay image", lambda: SemSegResults(np.zeros((256, 512, 3), np.uint8), "x.jpg", dict(enumerate(
                        "abcdefgh")), semseg=mask).plot(save=True, filename=str(out / "big.jpg")))):
    try:
        write()
    except DiskFullError as e:
        print("ERR", e)
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, preexec_fn=_file_size_limit(4096))
    errors = [x for x in p.stdout.splitlines() if x.startswith("ERR")]
    assert p.returncode == 0 and len(errors) == 2, p.stdout + p.stderr[-3000:]
    assert f"while writing the class-map PNG {tmp_path / 'big.png'} (a file size limit" in errors[0]
    assert f"while writing the overlay image {tmp_path / 'big.jpg'} (a file size limit" in errors[1]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["small.png"]  # nothing cut, no temporary file left
