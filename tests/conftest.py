"""Test environment: offline, a private Ultralytics config dir, and datasets/runs under a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Before anything imports Ultralytics: no network, no settings shared with the user's own.
_ROOT = Path(tempfile.mkdtemp(prefix="semseg-tests-"))
os.environ["YOLO_OFFLINE"] = "true"  # the only spelling 8.3 honours
os.environ["YOLO_AUTOINSTALL"] = "false"
os.environ["YOLO_CONFIG_DIR"] = str(_ROOT / "config")
os.environ.setdefault("OMP_NUM_THREADS", "2")

YOLO = str(Path(sys.executable).with_name("yolo"))
# Ultralytics reads its directories once at import, so write the settings file before this process imports it
subprocess.run(
    [YOLO, "settings", f"datasets_dir={_ROOT / 'datasets'}", f"runs_dir={_ROOT / 'runs'}",
     f"weights_dir={_ROOT / 'weights'}", "sync=False"],
    check=True, capture_output=True,
)  # fmt: skip


def run_cli(*args: str, cwd: Path | str = _ROOT, check: bool = True, cmd: str = YOLO) -> subprocess.CompletedProcess:
    """Run the real `yolo` console script (or `cmd`) in a subprocess; return the completed process with output."""
    p = subprocess.run([cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    if check and p.returncode:
        raise AssertionError(f"{cmd} {' '.join(args)} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-6000:]}")
    return p


def transferred(log: str) -> tuple[int, int]:
    """(tensors transferred, tensors of the model) from the "Transferred n/total items" line Ultralytics logs."""
    line = next(x for x in log.splitlines() if "Transferred" in x)
    n, total = (int(v) for v in line.split("Transferred ")[1].split()[0].split("/"))
    return n, total


@pytest.fixture(scope="session")
def root() -> Path:
    return _ROOT


@pytest.fixture(scope="session")
def toy_data() -> dict:
    """The built-in synthetic dataset, generated once into the test datasets dir."""
    from ultralytics_semseg.data.build import check_semseg_dataset

    return check_semseg_dataset("synthetic-streets.yaml")


@pytest.fixture(scope="session")
def trained_run(toy_data) -> Path:
    """A 2-epoch run of the real `yolo semseg train` on the synthetic dataset, tiny size, with epoch checkpoints."""
    run_cli(
        "semseg", "train", "model=yolo11n-semseg.yaml", "epochs=2", "imgsz=128", "batch=16",
        "save_period=1", "project=" + str(_ROOT / "runs"), "name=cli-train", "exist_ok=True", "seed=0",
    )  # fmt: skip
    return _ROOT / "runs" / "cli-train"


def make_noise_dataset(root: Path, n_train: int = 4, n_val: int = 2, size: int = 64) -> Path:
    """A tiny 3-class dataset of size x size noise images and id masks at `root`; returns its data YAML."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("val", n_val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "masks" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            cv2.imwrite(str(root / "images" / split / f"{i}.jpg"), rng.integers(0, 255, (size, size, 3), np.uint8))
            cv2.imwrite(str(root / "masks" / split / f"{i}.png"), rng.integers(0, 3, (size, size), np.uint8))
    yaml = root / "data.yaml"
    yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n  0: a\n  1: b\n  2: c\n")
    return yaml
