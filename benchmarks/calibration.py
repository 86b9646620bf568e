"""Class-bias calibration (`bias_calibration`) against the same weights without it, on finished benchmark runs.

Usage:
    python benchmarks/calibration.py run --runs 'benchmarks/.runs/round9-30ep__camvid__ours__s*' ... \
        [--results benchmarks/results/round9-calib/calibration]
    python benchmarks/calibration.py table [--results benchmarks/results/round9-calib/calibration]

Each run folder's `weights/last.pt` (trained without calibration: the package before it, or `bias_calibration=False`)
is copied, scored by our validator at the labels' own resolution (`score`: mIoU and per-class IoU, precision and
recall), calibrated on its training split with the package's `calibrate_checkpoint` (what the trainer does after the
last epoch) and scored again: a paired comparison, the same weights with and without the offsets. One JSON per run
folder; `table` prints mean ± std over seeds per (dataset, contender) and the verdict against the larger of the two
spreads, then the thin classes' IoU, precision, recall and predicted-to-labelled pixel ratio (recall / precision)
without -> with.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import yaml

os.environ.setdefault("YOLO_OFFLINE", "true")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from report import THIN, ms, spread, thin_iou  # noqa: E402

RESULTS = HERE / "results" / "round9-calib" / "calibration"


def score(weights: Path, data: str, imgsz: int) -> tuple[float, dict[str, dict[str, float | None]]]:
    """mIoU and per-class IoU, precision and recall (fractions) by our validator at the labels' own resolution."""
    from ultralytics_semseg.models.val import SemSegValidator

    v = SemSegValidator(args=dict(model=str(weights), data=data, imgsz=imgsz, batch=1, plots=False, verbose=False))
    v(model=str(weights))
    s = v.metrics.semseg
    per_class = {
        name: {
            k: (None if np.isnan(s.per_class[k][i]) else float(s.per_class[k][i]))
            for k in ("IoU", "precision", "recall")
        }
        for i, name in v.metrics.names.items()
    }
    return float(s.IoU), per_class


def calibrate_run(run: Path, out: Path) -> dict:
    """Score `run`'s last.pt without and with the class-bias calibration; write and return the record."""
    from ultralytics_semseg.models.calibrate import calibrate_checkpoint

    _, dataset, contender, seed = run.name.split("__")
    train_args = yaml.safe_load((run / "args.yaml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "last.pt"
        shutil.copy(run / "weights" / "last.pt", weights)
        raw, raw_classes = score(weights, train_args["data"], train_args["imgsz"])
        start = time.perf_counter()
        args = SimpleNamespace(
            **{k: train_args[k] for k in ("data", "imgsz", "batch", "task")}, device="cpu", workers=0
        )
        offsets = calibrate_checkpoint(weights, args)
        seconds = time.perf_counter() - start
        calibrated, calibrated_classes = score(weights, train_args["data"], train_args["imgsz"])
    record = {"run": run.name, "dataset": dataset, "contender": contender, "seed": int(seed[1:]),
              "mIoU": raw, "per_class_IoU": {k: v["IoU"] for k, v in raw_classes.items()},
              "calibrated_mIoU": calibrated,
              "calibrated_per_class_IoU": {k: v["IoU"] for k, v in calibrated_classes.items()},
              "per_class": raw_classes, "calibrated_per_class": calibrated_classes,
              "offsets": [float(v) for v in offsets],
              "calibration_s": seconds, "imgsz": train_args["imgsz"]}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{run.name}.json").write_text(json.dumps(record, indent=1))
    print(f"{run.name}: mIoU {100 * raw:.1f} -> {100 * calibrated:.1f} ({seconds:.0f} s)", flush=True)
    return record


def verdict(a: list[float], b: list[float]) -> str:
    """a − b in points, 'better'/'worse' only beyond the larger of the two spreads, else 'noise'."""
    delta = 100 * (np.mean(a) - np.mean(b))
    if len(a) < 2 or abs(delta) <= max(spread(a), spread(b)):
        return f"{delta:+.1f} (noise)"
    return f"{delta:+.1f} ({'better' if delta > 0 else 'worse'})"


def cells(results: Path) -> dict[tuple[str, str, str], list[dict]]:
    """The records of `results` by (runs' results folder, dataset, contender), the folder telling budgets apart."""
    out: dict[tuple[str, str, str], list[dict]] = {}
    for f in sorted(results.glob("*.json")):
        r = json.loads(f.read_text())
        out.setdefault((r["run"].split("__")[0], r["dataset"], r["contender"]), []).append(r)
    return out


def table(results: Path) -> str:
    """Markdown: per (dataset, contender), mIoU and thin-class IoU without and with calibration, over seeds."""
    lines = ["| runs of | dataset | contender | seeds | mIoU | calibrated | Δ | thin | calibrated thin | Δ thin | s |",
             "| --- " * 11 + "|"]  # fmt: skip
    for (folder, dataset, contender), rs in cells(results).items():
        raw, cal = [r["mIoU"] for r in rs], [r["calibrated_mIoU"] for r in rs]
        seeds = ",".join(str(r["seed"]) for r in rs)
        row = [f"`{folder}`", dataset, f"`{contender}`", seeds, ms(raw), ms(cal), verdict(cal, raw)]
        if dataset in THIN:
            t_raw = [thin_iou(r["per_class_IoU"], dataset) for r in rs]
            t_cal = [thin_iou(r["calibrated_per_class_IoU"], dataset) for r in rs]
            row += [ms(t_raw), ms(t_cal), verdict(t_cal, t_raw)]
        else:
            row += ["", "", ""]
        row.append(f"{np.mean([r['calibration_s'] for r in rs]):.0f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def class_table(results: Path) -> str:
    """Markdown: per (runs, dataset) with thin classes, each class's IoU, precision and recall without -> with."""
    lines = ["| runs of | dataset | class | IoU | precision | recall | predicted / labelled pixels |",
             "| --- " * 7 + "|"]  # fmt: skip
    for (folder, dataset, _), rs in cells(results).items():
        for name in THIN.get(dataset, ()):
            row = []
            for key in ("IoU", "precision", "recall"):
                before = np.mean([r["per_class"][name][key] or 0.0 for r in rs])
                after = np.mean([r["calibrated_per_class"][name][key] or 0.0 for r in rs])
                row.append(f"{100 * before:.1f} → {100 * after:.1f}")
            ratio = [np.mean([(r[k][name]["recall"] or 0.0) / max(r[k][name]["precision"] or 0.0, 1e-9) for r in rs])
                     for k in ("per_class", "calibrated_per_class")]  # fmt: skip
            lines.append(
                f"| `{folder}` | {dataset} | {name} | " + " | ".join(row) + f" | {ratio[0]:.2f} → {ratio[1]:.2f} |"
            )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("cmd", choices=["run", "table"])
    p.add_argument("--runs", nargs="*", default=[], help="run folders (glob patterns) of benchmarks/.runs")
    p.add_argument("--results", type=Path, default=RESULTS)
    args = p.parse_args()
    if args.cmd == "run":
        for pattern in args.runs:
            for run in sorted(Path(x) for x in glob.glob(pattern) if Path(x, "weights", "last.pt").exists()):
                if (args.results / f"{run.name}.json").exists():
                    print(f"{run.name}: done before, skipped")
                    continue
                calibrate_run(run, args.results)
    print(table(args.results), "", class_table(args.results), sep="\n")


if __name__ == "__main__":
    main()
