"""Mutation checks: a plausible one-token bug in a core function must make the tests that cover it fail.

Each case copies the package to a temporary folder, applies one mutation to its source (a dropped term, swapped
operands, an off-by-one, a forgotten argument) and runs the named test files against the copy in a subprocess. If
they still pass, the suite cannot see that bug. A mutation whose target text is gone fails here too, naming the file:
update the case with the code it guards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "ultralytics_semseg"

# (file in the package, original text, mutated text, test files that must fail)
MUTATIONS = {
    "IoU drops the false negatives": (
        "utils/metrics.py",
        '"IoU": _ratio(tp, tp + fp + fn, self.counted)',
        '"IoU": _ratio(tp, tp + fp, self.counted)',
        ["tests/test_metrics.py"],
    ),
    "confusion matrix transposed (rows = prediction)": (
        "utils/metrics.py",
        "counts = torch.bincount(target * nc + pred, minlength=(IGNORE + 1) * nc)[: nc * nc]",
        "counts = torch.bincount(pred * nc + target, minlength=(IGNORE + 1) * nc)[: nc * nc]",
        ["tests/test_metrics.py"],
    ),
    "label lookup table one class short": (
        "data/utils.py",
        "lut[:nc] = np.arange(nc)",
        "lut[: nc - 1] = np.arange(nc - 1)",
        ["tests/test_data.py", "tests/test_formats.py"],
    ),
    # (dropping `ratio_pad` there is an equivalent mutant: Ultralytics infers the same centred padding from the shapes)
    "letterbox inverse to the original size with height and width swapped (CPU route)": (
        "utils/ops.py",
        "x = cv2.resize(x[top:bottom, left:right], ori_hw[::-1], interpolation=cv2.INTER_LINEAR)",
        "x = cv2.resize(x[top:bottom, left:right], ori_hw, interpolation=cv2.INTER_LINEAR)",
        ["tests/test_python_api.py"],
    ),
    "letterbox inverse to the original size with height and width swapped (GPU route)": (
        "utils/ops.py",
        "return scale_masks(logits.float(), ori_hw, ratio_pad=ratio_pad)",
        "return scale_masks(logits.float(), ori_hw[::-1], ratio_pad=ratio_pad)",
        ["tests/test_postprocess.py"],
    ),
    "running maximum lets a tie go to the later class": (
        "utils/ops.py",
        "greater = cv2.compare(score, best, cv2.CMP_GT)",
        "greater = cv2.compare(score, best, cv2.CMP_GE)",
        ["tests/test_postprocess.py"],
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_suite_catches_mutation(name, tmp_path):
    rel, old, new, tests = MUTATIONS[name]
    text = (PKG / rel).read_text()
    assert text.count(old) == 1, f"mutation target of {name!r} not found once in ultralytics_semseg/{rel}: update it"
    shutil.copytree(PKG, tmp_path / "ultralytics_semseg", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "ultralytics_semseg" / rel).write_text(text.replace(old, new))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    where = subprocess.run([sys.executable, "-c", "import ultralytics_semseg as m; print(m.__file__)"], env=env,
                           capture_output=True, text=True, cwd=tmp_path).stdout  # fmt: skip
    assert str(tmp_path) in where, f"the mutated copy is not the one imported: {where}"
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *(str(ROOT / t) for t in tests)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert p.returncode == 1, f"{name}: {' '.join(tests)} did not fail (rc {p.returncode}):\n{p.stdout[-2000:]}"
