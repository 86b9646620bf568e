"""Common mistakes on the command line end in one clean error block: what is wrong, which file, how to fix it.

Each case runs the real `yolo` command on a small generated dataset and checks the message, that no Python traceback
is printed (unless YOLO_SEMSEG_DEBUG=1), the exit status, and that no file the user owns changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from conftest import YOLO, make_noise_dataset

TRAIN = ("semseg", "train", "epochs=1", "imgsz=64", "batch=2", "workers=0", "exist_ok=True")


def hashes(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def run_error(tmp_path: Path, *args: str, env: dict | None = None):
    """Run `yolo *args` in `tmp_path` (its own runs folder); return (exit status, stdout + stderr, stderr)."""
    before = hashes(tmp_path)
    cmd = [YOLO, *args, f"project={tmp_path / 'runs'}"]
    p = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=900)
    after = hashes(tmp_path)
    changed = [f for f, h in before.items() if after.get(f) != h]
    assert not changed, f"user files changed or removed: {changed}"
    return p.returncode, p.stdout + p.stderr, p.stderr


def assert_clean(rc: int, out: str, err: str, *expected: str) -> None:
    assert rc == 1, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert err.count("semseg error: ") == 1 and "YOLO_SEMSEG_DEBUG=1" in err, err[-3000:]
    block = err[err.index("semseg error: ") :]
    for s in expected:
        assert s in block, f"{s!r} not in:\n{block}"


@pytest.fixture
def data(tmp_path) -> Path:
    return make_noise_dataset(tmp_path / "ds")


def test_empty_val_split(tmp_path, data):
    for f in (data.parent / "images" / "val").iterdir():
        f.unlink()
    rc, out, err = run_error(tmp_path, *TRAIN, f"data={data}")
    assert_clean(rc, out, err, "no images found in", str(data.parent / "images" / "val"), "'val' split of", str(data),
                 "point 'val:'")  # fmt: skip


def test_yaml_syntax_error(tmp_path, data):
    data.write_text(data.read_text().replace("names:\n  0: a", "names: {0: a\n  1: [b"))
    rc, out, err = run_error(tmp_path, *TRAIN, f"data={data}")
    assert_clean(rc, out, err, str(data), "line")


def test_data_yaml_does_not_exist(tmp_path):
    rc, out, err = run_error(tmp_path, *TRAIN, "data=nope.yaml")
    assert_clean(rc, out, err, "Dataset YAML 'nope.yaml' not found", str(tmp_path / "nope.yaml"),
                 "data=path/to/data.yaml", "synthetic-streets.yaml")  # fmt: skip


def test_wrong_model_name_lists_the_valid_ones(tmp_path, data):
    rc, out, err = run_error(tmp_path, *TRAIN, f"data={data}", "model=yolo11q-semseg.yaml")
    assert_clean(rc, out, err, "Model 'yolo11q-semseg.yaml' not found", "Valid names: yolo11n-semseg.yaml",
                 "yolo26x-semseg.yaml")  # fmt: skip


def test_semseg_weights_not_on_disk(tmp_path, data):
    rc, out, err = run_error(tmp_path, *TRAIN, f"data={data}", "model=yolo26s-semseg.pt")
    assert_clean(
        rc, out, err, "'yolo26s-semseg.pt' were not found on disk", "yolo semseg train model=yolo26s-semseg.yaml",
        "shipped with the package: yolo11n-semseg.pt",
    )  # fmt: skip
    rc, out, err = run_error(tmp_path, "semseg", "val", "model=yolo11m-semseg.pt", f"data={data}")
    assert_clean(rc, out, err, "'yolo11m-semseg.pt' were not found on disk")
    rc, out, err = run_error(
        tmp_path, *TRAIN, f"data={data}", "model=yolo11n-semseg.yaml", "pretrained=yolo11s-semseg.pt"
    )
    assert_clean(rc, out, err, "'yolo11s-semseg.pt' were not found on disk")


def test_no_usable_pairs(tmp_path, data):
    for f in (data.parent / "masks" / "train").iterdir():
        f.unlink()
    rc, out, err = run_error(tmp_path, *TRAIN, f"data={data}")
    assert_clean(rc, out, err, "No usable image/mask pairs in", str(data.parent / "images" / "train"), str(data))
    assert "mask not found at" in out  # the warning per image says why


def test_dataset_value_error_from_the_plugin(tmp_path, data):
    """Standard exceptions raised by the plug-in's data checks print the same way."""
    data.write_text(data.read_text() + "label_mapping: [1, 2]\n")
    rc, out, err = run_error(tmp_path, *TRAIN, f"data={data}")
    assert_clean(rc, out, err, str(data), "'label_mapping' must be a dict")


def test_debug_switch_shows_the_traceback(tmp_path):
    env = {**os.environ, "YOLO_SEMSEG_DEBUG": "1"}
    rc, out, err = run_error(tmp_path, *TRAIN, "data=nope.yaml", env=env)
    assert rc == 1 and "Traceback" in err and "Dataset YAML 'nope.yaml' not found" in err and "semseg error" not in err


def test_python_api_raises_the_same_message():
    from ultralytics import YOLO

    with pytest.raises(FileNotFoundError, match="Valid names: yolo11n-semseg.yaml"):
        YOLO("yolo11q-semseg.yaml")
    with pytest.raises(FileNotFoundError, match="were not found on disk"):
        YOLO("yolo26s-semseg.pt")


def test_other_tasks_keep_ultralytics_behaviour(tmp_path):
    """A detection run's error is Ultralytics' own (its traceback), not turned into a semseg error block."""
    rc, out, err = run_error(tmp_path, "detect", "train", "data=nope.yaml", "model=yolo11n.yaml", "epochs=1")
    assert rc != 0 and "semseg error" not in err and "nope.yaml" in out
