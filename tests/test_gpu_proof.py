"""benchmarks/gpu_proof.py --tiny: every step of the GPU proof runs on the CPU, so the script cannot rot."""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_proof.py"
CAMVID = ROOT.parent / "shared" / "data" / "camvid"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_proof", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_proof"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One `--tiny` run of the real script in a subprocess; its JSON, Markdown table and output."""
    tmp = tmp_path_factory.mktemp("gpu_proof")
    env = {**os.environ, "YOLO_OFFLINE": "true", "YOLO_CONFIG_DIR": str(tmp / "config")}
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--out", str(tmp / "out"), "--work", str(tmp / "work")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp)  # nothing in the repo
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    (json_file,) = (tmp / "out").glob("*-cpu-tiny.json")
    return json.loads(json_file.read_text()), json_file.with_suffix(".md").read_text(), p.stdout, tmp


def test_every_step_runs_without_error(tiny_run):
    res, _, _, _ = tiny_run
    steps = res["steps"]
    assert set(steps) == {"data", "train", "val", "infer", "camvid", "compile", "tensorrt"}
    errors = {k: v["error"] for k, v in steps.items() if "error" in v}
    assert not errors, errors
    assert steps["tensorrt"].get("skipped") or "ours" in steps["tensorrt"]
    assert res["environment"]["ultralytics"] and res["environment"]["device"] == "cpu"


def test_training_figures_are_real(tiny_run):
    res, _, _, _ = tiny_run
    p = res["profile"]
    for name in ("ours", "yolo26n-sem"):
        r = res["steps"]["train"][name]
        # the same optimizer steps for both contenders: epochs x (n_train // batch), last incomplete batch dropped
        assert r["steps"] == p["epochs"] * (p["n_train"] // p["batch"]), r["steps"]
        assert r["losses_finite"] and math.isfinite(r["last_loss"]) and r["last_loss"] > 0
        assert r["images_per_s"] > 0 and 0 <= r["loader_wait_share"] < 1
        assert r["args"]["nbs"] == r["args"]["batch"] == p["batch"]
        ratio = r["amp_vs_fp32"]
        assert ratio["steps"] == p["fp32_epochs"] * (p["n_train"] // p["batch"])
        # on the CPU AMP is off in both runs, which start from the same seed: the first step is the same step
        assert ratio["first_step_ratio"] == pytest.approx(1.0, abs=1e-4)


def test_validation_on_two_devices_compares_full_matrices(tiny_run):
    res, _, _, _ = tiny_run
    v = res["steps"]["val"]
    assert v["images"] == res["profile"]["n_val"]
    h, w = res["profile"]["scene_hw"]
    # every labelled pixel of every val image at its original resolution is in the confusion matrix
    assert 0 < v["pixels"] <= v["images"] * h * w
    assert v["gpu"]["pixels_differing_from_cpu"] == 0 and v["gpu"]["mIoU_minus_cpu"] == 0  # cpu vs cpu here


def test_inference_is_timed_and_compared(tiny_run):
    res, table, stdout, _ = tiny_run
    inf = res["steps"]["infer"]
    assert inf["image_hw"] == list(res["profile"]["scene_hw"])
    for name in ("ours", "yolo26n-sem"):
        assert inf[name]["total"] >= inf[name]["inference"] > 0
        assert inf[name]["fp16_fp32_agreement"] == 1.0  # FP32 on both sides on the CPU
    assert "skipped" in res["steps"]["compile"]
    assert "| training" in table and "| prediction" in table and table in stdout


def test_camvid_step(tiny_run):
    res, _, _, tmp = tiny_run
    cv = res["steps"]["camvid"]
    if not CAMVID.is_dir():
        assert "skipped" in cv
        return
    for name in ("ours-packaged", "ours", "yolo26n-sem"):
        assert 0 <= cv[name]["mIoU"] <= 1 and cv[name]["steps"] > 0
        assert set(cv[name]["per_class_IoU"]) >= {"pole", "sign", "pedestrian", "bicyclist"}
    assert len({cv[n]["steps"] for n in ("ours-packaged", "ours", "yolo26n-sem")}) == 1  # same steps for all
    assert not list(CAMVID.rglob("*.cache")), "label caches must go to the work folder, never into CamVid's"


def test_camvid_absent_is_skipped_with_a_message(tmp_path):
    gp = load_script()
    assert gp.camvid_yaml(tmp_path / "nowhere", tmp_path, 0) is None
    assert "pass --camvid" in gp.step_camvid({"profile": gp.TINY, "camvid": None, "camvid_dir": tmp_path})["skipped"]


def test_cityscapes_like_scenes_use_cityscapes_ids(tmp_path):
    import cv2
    import numpy as np

    gp = load_script()
    p = gp.Profile(scene_hw=(64, 128), n_train=2, n_val=1)
    yaml_file = gp.make_cityscapes_like(tmp_path / "city", p, workers=1)
    assert "18: bicycle" in yaml_file.read_text()
    mask = cv2.imread(str(next((tmp_path / "city" / "masks" / "train").glob("*.png"))), cv2.IMREAD_UNCHANGED)
    ids = set(np.unique(mask).tolist())
    assert ids <= {0, 1, 2, 5, 8, 10, 11, 13, 255} and len(ids) >= 3  # road..person at their Cityscapes ids
