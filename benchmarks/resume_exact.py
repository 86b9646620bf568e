"""Kill a training with SIGKILL, resume it, and compare it with the same run left alone (docs/reliability.md).

Usage:
    python benchmarks/resume_exact.py [--out benchmarks/results/resume_exact/NAME] [--workdir DIR]

The larger of the two resume checks in docs/reliability.md (the smaller one is
`tests/test_reliability.py::test_killed_and_resumed_run_reproduces_the_uninterrupted_run`): 32 generated street
scenes (8 for val), `imgsz=128`, batch 8 with `nbs=16` (2 batches per optimizer step), `lr0=0.004`, 8 epochs, seed 0,
CPU. One run trains uninterrupted; the other is killed with SIGKILL once the checkpoint of epoch 3 is written (its
`epoch2.pt`, written after `last.pt`) and continued with `yolo semseg train resume model=.../last.pt`. Writes
`NAME.json` (both runs' `results.csv` rows, the largest absolute difference per epoch over every column but `time`,
the final mIoU of each, whether the resume printed Ultralytics' "Resume ignores" warning, and the sizes of an epoch
checkpoint with and without the exact-resume state and of the final, stripped `last.pt`) and `NAME.log` (the console
output of the three commands).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
YOLO = str(Path(sys.executable).with_name("yolo"))


def results(run: Path) -> list[dict[str, float]]:
    """Rows of a run's results.csv without the wall-time column."""
    with open(run / "results.csv") as f:
        return [{k.strip(): float(v) for k, v in row.items() if k.strip() != "time"} for row in csv.DictReader(f)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    p.add_argument("--out", type=Path, default=HERE / "results" / "resume_exact" / stamp, help="path without suffix")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--kill-after", type=int, default=3, help="epochs completed before the SIGKILL")
    a = p.parse_args()
    from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets

    work = a.workdir or Path(tempfile.mkdtemp(prefix="semseg-resume-"))
    root = generate_synthetic_streets(work / "toy", n_train=32, n_val=8)
    yaml = work / "toy.yaml"
    yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: {dict(STREET_NAMES)}\n")
    args = [YOLO, "semseg", "train", "model=yolo11n-semseg.yaml", f"data={yaml}", f"epochs={a.epochs}", "imgsz=128",
            "batch=8", "nbs=16", "lr0=0.004", "seed=0", "save_period=1", "plots=False", f"project={work}",
            "exist_ok=True", "device=cpu"]  # fmt: skip
    a.out.parent.mkdir(parents=True, exist_ok=True)
    load_before, t0 = os.getloadavg(), time.perf_counter()
    with open(a.out.with_suffix(".log"), "w") as log:
        log.write(f"$ {' '.join(args)} name=full\n")
        log.flush()
        subprocess.run([*args, "name=full"], stdout=log, stderr=subprocess.STDOUT, check=True)
        log.write(f"\n$ {' '.join(args)} name=killed  (SIGKILL after epoch {a.kill_after})\n")
        log.flush()
        proc = subprocess.Popen([*args, "name=killed"], stdout=log, stderr=subprocess.STDOUT)
        weights = work / "killed" / "weights"
        while not (weights / f"epoch{a.kill_after - 1}.pt").exists() and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_rows = len(results(work / "killed"))
        cmd = [YOLO, "semseg", "train", "resume", f"model={weights / 'last.pt'}"]
        log.write(f"\n[killed with {killed_rows} epochs in results.csv]\n\n$ {' '.join(cmd)}\n")
        log.flush()
        r = subprocess.run(cmd, capture_output=True, text=True)
        log.write(r.stdout + r.stderr)
    full, resumed = results(work / "full"), results(work / "killed")
    import io

    import torch

    ckpt = torch.load(work / "full" / "weights" / f"epoch{a.kill_after - 1}.pt", map_location="cpu", weights_only=False)
    ckpt["optimizer"].pop("semseg_resume", None)  # what Ultralytics' own checkpoint of that epoch holds
    buffer = io.BytesIO()
    torch.save(ckpt, buffer)
    sizes = {
        "epoch_checkpoint": (work / "full" / "weights" / f"epoch{a.kill_after - 1}.pt").stat().st_size,
        "epoch_checkpoint_without_semseg_resume": buffer.getbuffer().nbytes,
        "final_last_pt": (work / "full" / "weights" / "last.pt").stat().st_size,
    }
    diffs = [max(abs(x[k] - y[k]) for k in x) for x, y in zip(full, resumed)]
    record = {
        "script": "benchmarks/resume_exact.py",
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(args[1:]).replace(str(work), "$WORK"),
        "kill_after_epochs": a.kill_after,
        "epochs_in_results_at_kill": killed_rows,
        "resume_exit": r.returncode,
        "resume_ignores_warning": "Resume ignores" in r.stdout + r.stderr,
        "final_mIoU": {"uninterrupted": full[-1]["metrics/mIoU"], "resumed": resumed[-1]["metrics/mIoU"]},
        "max_abs_diff_per_epoch": diffs,
        "max_abs_diff_after_kill": max(diffs[a.kill_after :], default=None),
        "checkpoint_bytes": sizes,
        "results_uninterrupted": full,
        "results_resumed": resumed,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    a.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if not k.startswith("results_")}, indent=1))


if __name__ == "__main__":
    main()
