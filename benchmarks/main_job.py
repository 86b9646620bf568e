"""The README's main job, run as written, with its raw output kept: train -> val -> predict on the built-in streets.

Usage:
    python benchmarks/main_job.py [--out benchmarks/results/main_job/NAME] [--workdir DIR]

Runs the three `yolo semseg` commands of README.md's "Main job" in `--workdir` (a fresh temporary folder by default),
and writes next to `--out`: `.log` (the console output of all three commands), `-results.csv` (the training's
per-epoch results) and `.json` (the commands, their exit codes and wall times, the machine's load average before and
after, the final epoch's row of `results.csv`, and the `all` row `yolo semseg val` printed for `best.pt`).
README.md and docs/training.md quote the mIoU and the wall times from these files.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRAIN = (
    "yolo semseg train model=yolo11n-semseg.pt epochs=30 imgsz=256 batch=16 project={project} name=quickstart"
    " exist_ok=True"
)
WHERE = "from ultralytics.utils import DATASETS_DIR; print(DATASETS_DIR / 'synthetic-streets/images/val')"
VAL = "yolo semseg val model={best}"
PREDICT = "yolo semseg predict model={best} source={source} save_txt=True"


def git_commit() -> str:
    """The checkout's commit, with `+dirty` when the package sources differ from it."""
    try:
        root = HERE.parent
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "ultralytics_semseg"], cwd=root, capture_output=True)
        return sha + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def run(cmd: str, cwd: Path, log) -> tuple[int, float, str]:
    """Run `cmd` in a shell, append its output to `log`, return exit code, wall seconds and the output."""
    log.write(f"$ {cmd}\n")
    log.flush()
    t = time.perf_counter()
    p = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    out = p.stdout + p.stderr
    log.write(out + f"[exit {p.returncode}, {dt:.1f} s]\n\n")
    log.flush()
    return p.returncode, dt, out


def val_metrics(out: str) -> dict:
    """The `all` row of the validator's table (images, pixels, then the means of IoU, Dice, precision, recall, MCR)."""
    keys = ("images", "pixels", "mIoU", "mDice", "mPrecision", "mRecall", "mMCR")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 1 + len(keys) and parts[0] == "all":
            return {"line": line.strip(), **{k: float(v) for k, v in zip(keys, parts[1:])}}
    return {}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    p.add_argument("--out", type=Path, default=HERE / "results" / "main_job" / stamp, help="path without suffix")
    p.add_argument("--workdir", type=Path, default=None)
    a = p.parse_args()
    work = a.workdir or Path(tempfile.mkdtemp(prefix="semseg-main-job-"))
    work.mkdir(parents=True, exist_ok=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    best = work / "runs/semseg/quickstart/weights/best.pt"
    record = {
        "script": "benchmarks/main_job.py",
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
        "steps": [],
    }
    with open(a.out.with_suffix(".log"), "w") as log:
        code, _, out = run(f'python -c "{WHERE}"', work, log)
        source = out.strip().splitlines()[-1]
        for name, cmd in (
            ("train", TRAIN.format(project=work / "runs/semseg")),
            ("val", VAL.format(best=best)),
            ("predict", PREDICT.format(best=best, source=source)),
        ):
            code, dt, out = run(cmd, work, log)
            step = {"step": name, "command": cmd.replace(str(work), "$WORK"), "exit": code, "wall_s": round(dt, 1)}
            if name == "val":
                step["all"] = val_metrics(out)
            record["steps"].append(step)
            if code:
                break
    results = work / "runs/semseg/quickstart/results.csv"
    if results.exists():
        shutil.copy(results, a.out.with_name(f"{a.out.name}-results.csv"))
        rows = list(csv.DictReader(results.open()))
        record["results_csv_last_row"] = {k.strip(): v.strip() for k, v in rows[-1].items()} if rows else {}
    record["loadavg_after"] = os.getloadavg()
    a.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
