"""The plug-in mechanism: additive, lazy, and never able to break Python or the other tasks."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
from conftest import run_cli


def test_interpreter_start_imports_neither_torch_nor_ultralytics():
    code = "import sys; print(sorted(m for m in ('torch', 'ultralytics', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    # ... yet the hook is installed by the .pth file
    code = "import sys; print(any(type(f).__name__ == '_PostImportFinder' for f in sys.meta_path))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "True"


def test_stock_yolo_command_knows_semseg_and_keeps_other_tasks():
    code = (
        "from ultralytics.cfg import TASKS, TASK2DATA, TASK2MODEL, TASK2METRIC; "
        "print(TASKS); print(TASK2DATA['semseg'], TASK2MODEL['semseg'], TASK2METRIC['semseg']); "
        "print(TASK2DATA['detect'], TASK2MODEL['detect'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert "'semseg'" in out[0] and "'detect'" in out[0] and "'segment'" in out[0]
    assert out[1] == "synthetic-streets.yaml yolo11n-semseg.yaml metrics/mIoU"
    assert out[2].startswith("coco8.yaml yolo")


def test_yolo_classes_route_semseg():
    from ultralytics import YOLO

    m = YOLO("yolo26n-semseg.yaml")
    assert m.task == "semseg" and type(m.model).__name__ == "SemSegModel"
    det = YOLO("yolo11n.yaml")
    assert det.task == "detect" and "semseg" not in det.task_map  # other tasks see Ultralytics' own map


def test_python_m_entrypoint_and_script(root):
    p = run_cli("-m", "ultralytics_semseg", "semseg", "train", "model=nonexistent-semseg.yaml", cmd=sys.executable,
                check=False)  # fmt: skip
    assert "is not a valid YOLO argument" not in p.stderr and "nonexistent-semseg.yaml" in p.stderr + p.stdout
    p = run_cli("semseg", "train", "model=nonexistent-semseg.yaml", cmd=str(__import__("conftest").YOLO) + "-semseg",
                check=False)  # fmt: skip
    assert "is not a valid YOLO argument" not in p.stderr


def test_patch_failure_is_contained(monkeypatch):
    """A failing patch warns and leaves Ultralytics usable instead of raising at import."""
    from ultralytics_semseg import _bootstrap, registry

    monkeypatch.setattr(registry, "patch_cfg", lambda module: 1 / 0)
    monkeypatch.setattr(_bootstrap, "_done", set())
    with pytest.warns(UserWarning, match="could not register"):
        _bootstrap._apply("ultralytics.cfg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import ultralytics.cfg  # noqa: F401


def test_wheel_ships_yamls_and_pth(tmp_path):
    """The built wheel carries the model/dataset YAMLs and the .pth hook (a .gitignore slip once dropped them)."""
    import zipfile

    root = __import__("pathlib").Path(__file__).parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path), str(root)], check=True, capture_output=True)  # fmt: skip
    names = zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist()
    cfg = "ultralytics_semseg/cfg/"
    for f in ("default.yaml", "models/yolo11-semseg.yaml", "models/yolo26-semseg.yaml",
              "datasets/synthetic-streets.yaml", "datasets/cityscapes.yaml", "datasets/ade20k.yaml"):  # fmt: skip
        assert cfg + f in names, f
    assert "ultralytics_semseg.pth" in names
