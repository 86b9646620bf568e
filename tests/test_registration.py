"""The plug-in mechanism: additive, lazy, and never able to break Python or the other tasks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
FAILED = "the semseg plug-in failed to"


def test_interpreter_start_imports_nothing_heavy():
    """The .pth line only installs the finder: no torch, Ultralytics, importlib.abc or plug-in module is imported."""
    heavy = ("torch", "ultralytics", "numpy", "importlib.abc", "ultralytics_semseg.registry")
    code = f"import sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    # ... yet the hook is installed by the .pth file
    code = "import sys; print(any(type(f).__module__ == '_ultralytics_semseg_hook' for f in sys.meta_path))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "True"


def test_stock_yolo_command_knows_semseg_and_keeps_other_tasks():
    code = (
        "from ultralytics.cfg import TASKS, TASK2DATA, TASK2MODEL, TASK2METRIC; "
        "print(TASKS); print(TASK2DATA['semseg'], TASK2MODEL['semseg'], TASK2METRIC['semseg']); "
        "print(TASK2DATA['detect'], TASK2MODEL['detect'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert "'semseg'" in out[0] and "'detect'" in out[0] and "'segment'" in out[0]
    assert out[1] == "synthetic-streets.yaml yolo11n-semseg.pt metrics/mIoU"
    assert out[2].startswith("coco8.yaml yolo")


def test_yolo_classes_route_semseg():
    from ultralytics import YOLO

    m = YOLO("yolo26n-semseg.yaml")
    assert m.task == "semseg" and type(m.model).__name__ == "SemSegModel"
    m = YOLO(model="yolo11n-semseg.yaml", verbose=False)  # keywords are forwarded too
    assert m.task == "semseg"
    det = YOLO("yolo11n.yaml")
    assert det.task == "detect" and "semseg" not in det.task_map  # other tasks see Ultralytics' own map


def test_python_m_entrypoint_and_script(root):
    p = run_cli("-m", "ultralytics_semseg", "semseg", "train", "model=nonexistent-semseg.yaml", cmd=sys.executable,
                check=False)  # fmt: skip
    assert "is not a valid YOLO argument" not in p.stderr and "nonexistent-semseg.yaml" in p.stderr + p.stdout
    p = run_cli("semseg", "train", "model=nonexistent-semseg.yaml", cmd=str(__import__("conftest").YOLO) + "-semseg",
                check=False)  # fmt: skip
    assert "is not a valid YOLO argument" not in p.stderr and "Valid names: yolo11n-semseg.yaml" in p.stderr


def test_wheel_ships_yamls_pth_and_hook(tmp_path):
    """The built wheel carries the model/dataset YAMLs, the pretrained weights, the .pth line and the hook module."""
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)  # fmt: skip
    wheel = zipfile.ZipFile(next(tmp_path.glob("*.whl")))
    names = wheel.namelist()
    cfg = "ultralytics_semseg/cfg/"
    for f in ("default.yaml", "models/yolo11-semseg.yaml", "models/yolo26-semseg.yaml",
              "datasets/synthetic-streets.yaml", "datasets/cityscapes.yaml", "datasets/ade20k.yaml"):  # fmt: skip
        assert cfg + f in names, f
    assert "ultralytics_semseg.pth" in names and "_ultralytics_semseg_hook.py" in names
    for weights in ("yolo11n-semseg.pt", "yolo26n-semseg.pt"):  # the pretrained weights (.gitignore exception)
        assert f"ultralytics_semseg/weights/{weights}" in names, weights
    assert "import _ultralytics_semseg_hook" in wheel.read("ultralytics_semseg.pth").decode()


# A broken copy of the package (never the real one) in a site dir of its own, run with `python -S` so that the real
# installation's .pth is not processed; Ultralytics and torch come from this interpreter's site-packages.
@pytest.fixture
def broken_site(tmp_path):
    """Return `make(relpath, edit)`: copy the plug-in into a new site dir, apply `edit` to one file, return the dir."""
    import ultralytics

    site_packages = str(Path(ultralytics.__file__).parents[1])

    def make(relpath: str, edit) -> tuple[Path, Path]:
        site = tmp_path / "site"
        shutil.copytree(
            ROOT / "ultralytics_semseg", site / "ultralytics_semseg", ignore=shutil.ignore_patterns("*.pyc")
        )
        shutil.copy(ROOT / "_ultralytics_semseg_hook.py", site)
        shutil.copy(ROOT / "ultralytics_semseg/_plugin/ultralytics_semseg.pth", site)
        f = site / relpath
        f.write_text(edit(f.read_text()))
        return site, f

    def run(site: Path, code: str) -> subprocess.CompletedProcess:
        boot = (
            f"import sys, site; sys.path.append({site_packages!r}); sys.path.insert(0, {str(site)!r}); "
            f"site.addsitedir({str(site)!r}); "
        )
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "YOLO_SEMSEG_DEBUG"}}
        return subprocess.run([sys.executable, "-S", "-c", boot + code], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=600)  # fmt: skip

    return make, run


def _yolo(*args: str) -> str:
    """Python code that runs the `yolo` console script's entrypoint with `args`."""
    return f"sys.argv = ['yolo', *{args!r}]; from ultralytics.cfg import entrypoint; sys.exit(entrypoint())"


DETECT = (
    "import numpy as np; from ultralytics import YOLO; m = YOLO('yolo11n.yaml'); "
    "r = m.predict(np.zeros((64, 64, 3), np.uint8), imgsz=64, verbose=False); print('detect ok', m.task, len(r))"
)


@pytest.mark.parametrize(
    "relpath, edit, line",
    [
        ("ultralytics_semseg/__init__.py", lambda s: s.replace("_LAZY = {", "_LAZY = {{", 1), "_LAZY = {{"),
        ("ultralytics_semseg/registry.py", lambda s: s + "\ndef broken(:\n", "def broken(:"),
        (
            "ultralytics_semseg/models/predict.py",
            lambda s: s.replace("annotations\n", "annotations\nimport not_a_module_xyz\n", 1),
            "import not_a_module_xyz",
        ),
        ("ultralytics_semseg/nn/head.py", lambda s: s.replace("import torch\n", "import torch\n1 / 0\n", 1), "1 / 0"),
    ],
    ids=["__init__", "registry", "predict", "nn-head"],
)
def test_broken_plugin_is_reported_once_and_other_tasks_work(broken_site, relpath, edit, line):
    """Whatever module of the plug-in is broken: one message naming file and line; `yolo semseg` says the plug-in
    failed to load; detection still trains its model and predicts."""
    make, run = broken_site
    site, f = make(relpath, edit)
    lineno = f.read_text().splitlines().index(line) + 1
    p = run(site, _yolo("semseg", "train", "model=yolo11n-semseg.yaml", "epochs=1"))
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert out.count(FAILED) == 1 and f"{f}, line {lineno}" in out, out
    assert "cannot run 'semseg' because the plug-in did not load" in out
    assert "is not a valid YOLO argument" not in out and "Traceback" not in out, out
    p = run(site, DETECT)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "detect ok detect 1" in out, out
    assert out.count(FAILED) == 1 and f"{f}, line {lineno}" in out, out


def test_patch_that_no_longer_fits_and_missing_hook_target(broken_site):
    """A patch failing against a changed Ultralytics, or a hook target module that moved, is reported once."""
    make, run = broken_site
    site, f = make(
        "ultralytics_semseg/registry.py", lambda s: s.replace("    yolo = module.YOLO\n", "    yolo = module.YOLOv99\n")
    )
    p = run(site, DETECT)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "detect ok" in out, out
    assert out.count(FAILED) == 1 and "register with ultralytics.models.yolo.model" in out and "YOLOv99" in out, out

    shutil.rmtree(site)
    site, f = make(
        "_ultralytics_semseg_hook.py",
        lambda s: s.replace("TARGETS = {", 'TARGETS = {"ultralytics.moved": "patch_cfg", ', 1),
    )
    p = run(site, DETECT)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "detect ok" in out, out
    assert out.count(FAILED) == 1 and "hook target module 'ultralytics.moved' not found" in out, out
