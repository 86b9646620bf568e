"""Speed of confusion-matrix accumulation and metric finalisation, against two baselines.

Times one `SemSegMetrics.update(pred, target)` call per Cityscapes-size image (1024x2048, 19 classes, ~5% ignore
pixels, uint8 class maps as the validator produces them), side by side in one process with:

- a naive NumPy implementation: mask the ignore pixels, `np.bincount(nc * gt + pred)`;
- torchmetrics' `MulticlassConfusionMatrix(ignore_index=255).update` (with its default argument validation and
  without it).

It also times `SemSegScores(matrix)`, the finalisation of the dataset-level matrix into the metric suite. Each row is
the median (and minimum) over `--runs` timed calls after `--warmup` untimed ones, with `torch.set_num_threads(2)`; the
implementations of one device are called in turn within each run (alternated), so a change in the machine's load
hits all of them alike, and each row also gives its median ratio to ours. `--out PATH.json` writes every timing, the
rows and the load average before and after (`os.getloadavg`) as the raw output the docs cite.
CUDA rows are added when a GPU is available (synchronised before and after every call). All implementations are
checked to produce the same matrix before anything is timed.

Usage:
    python benchmarks/metric_speed.py
    python benchmarks/metric_speed.py --runs 50 --height 512 --width 1024 --devices cpu
    python benchmarks/metric_speed.py --devices cpu --out benchmarks/results/metric_speed/DATE.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Callable

import numpy as np
import torch

from ultralytics_semseg.utils.metrics import SemSegMetrics, SemSegScores

IGNORE = 255


def make_pair(h: int, w: int, nc: int, ignore: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 prediction and ground truth; the prediction copies the ground truth on ~80% of the pixels."""
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, nc, (h, w), dtype=np.uint8)
    pred = np.where(rng.random((h, w)) < 0.8, gt, rng.integers(0, nc, (h, w), dtype=np.uint8)).astype(np.uint8)
    gt[rng.random((h, w)) < ignore] = IGNORE
    return pred, gt


def numpy_update(pred: np.ndarray, gt: np.ndarray, nc: int) -> np.ndarray:
    """Naive baseline: one confusion matrix (rows = ground truth) with np.bincount."""
    valid = gt != IGNORE
    idx = nc * gt[valid].astype(np.int64) + pred[valid]
    return np.bincount(idx, minlength=nc * nc).reshape(nc, nc)


def time_call(fn: Callable[[], object], runs: int, warmup: int, cuda: bool = False) -> tuple[float, float]:
    """Median and minimum wall time of fn() in milliseconds, after `warmup` untimed calls."""
    times = time_alternated({"fn": fn}, runs, warmup, cuda)["fn"]
    return statistics.median(times), min(times)


def time_alternated(
    fns: dict[str, Callable[[], object]], runs: int, warmup: int, cuda: bool = False
) -> dict[str, list[float]]:
    """Wall times in milliseconds of each fn, the fns called in turn within each of `runs` rounds."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn()
            if cuda:
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return times


def accumulate_fns(pred: np.ndarray, gt: np.ndarray, nc: int, device: str) -> dict[str, Callable[[], object]]:
    """The update calls to compare on one device, each feeding one image into its own accumulator."""
    from torchmetrics.classification import MulticlassConfusionMatrix

    names = {i: str(i) for i in range(nc)}
    p, t = torch.from_numpy(pred).to(device), torch.from_numpy(gt).to(device)
    ours = SemSegMetrics(names)
    ours.matrix = ours.matrix.to(device)
    tm = MulticlassConfusionMatrix(num_classes=nc, ignore_index=IGNORE).to(device)
    tm_fast = MulticlassConfusionMatrix(num_classes=nc, ignore_index=IGNORE, validate_args=False).to(device)
    fns = {
        "SemSegMetrics.update (ours)": lambda: ours.update(p, t),
        "torchmetrics ConfusionMatrix.update": lambda: tm.update(p, t),
        "torchmetrics (validate_args=False)": lambda: tm_fast.update(p, t),
    }
    if device == "cpu":
        fns["numpy np.bincount (naive)"] = lambda: numpy_update(pred, gt, nc)
    return fns


def check_agreement(pred: np.ndarray, gt: np.ndarray, nc: int) -> None:
    """All implementations must give the same matrix before their speed means anything."""
    from torchmetrics.classification import MulticlassConfusionMatrix

    ours = SemSegMetrics({i: str(i) for i in range(nc)})
    ours.update(torch.from_numpy(pred), torch.from_numpy(gt))
    tm = MulticlassConfusionMatrix(num_classes=nc, ignore_index=IGNORE)
    tm.update(torch.from_numpy(pred), torch.from_numpy(gt))
    ref = numpy_update(pred, gt, nc)
    if not (np.array_equal(ours.matrix.numpy(), ref) and np.array_equal(tm.compute().numpy(), ref)):
        raise RuntimeError("confusion matrices differ between implementations")


def run(args: argparse.Namespace, raw: dict | None = None) -> list[tuple[str, str, float, float]]:
    """Time every implementation on every requested device; return (name, device, median ms, min ms) rows.

    With `raw` (a dict), every timing in milliseconds is stored in it under "device/name".
    """
    pred, gt = make_pair(args.height, args.width, args.nc, args.ignore)
    check_agreement(pred, gt, args.nc)
    rows = []
    for device in args.devices:
        if device == "cuda" and not torch.cuda.is_available():
            continue
        times = time_alternated(accumulate_fns(pred, gt, args.nc, device), args.runs, args.warmup, device == "cuda")
        for name, t in times.items():
            rows.append((name, device, statistics.median(t), min(t)))
            if raw is not None:
                raw[f"{device}/{name}"] = [round(x, 4) for x in t]
    matrix = numpy_update(pred, gt, args.nc) * 500  # a dataset's worth of counts
    rows.append(("SemSegScores(matrix) finalisation", "cpu", *time_call(lambda: SemSegScores(matrix), 200, 10)))
    return rows


def print_table(rows: list[tuple[str, str, float, float]], args: argparse.Namespace) -> None:
    """Median/min milliseconds per call and throughput in megapixels per second."""
    mpix = args.height * args.width / 1e6
    print(
        f"\n{args.height}x{args.width} px, {args.nc} classes, {100 * args.ignore:.0f}% ignore, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.runs} runs after "
        f"{args.warmup} warm-up\n"
    )
    ours = {d: m for n, d, m, _ in rows if n.endswith("(ours)")}
    print(f"{'implementation':38s} {'device':6s} {'median ms':>10s} {'min ms':>8s} {'Mpix/s':>8s} {'/ ours':>7s}")
    print("-" * 82)
    for name, device, med, best in rows:
        rate = f"{mpix / med * 1e3:8.0f}" if "finalisation" not in name else f"{'':8s}"
        ratio = f"{med / ours[device]:7.2f}" if device in ours and "finalisation" not in name else ""
        print(f"{name:38s} {device:6s} {med:10.3f} {best:8.3f} {rate} {ratio}")


def parse_args() -> argparse.Namespace:
    """Command-line options; the defaults are the Cityscapes setting described in the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=1024)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--nc", type=int, default=19)
    parser.add_argument("--ignore", type=float, default=0.05, help="share of ignore (255) pixels")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"], choices=["cpu", "cuda"])
    parser.add_argument("--out", default=None, help="write the raw timings and rows to this JSON file")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("need --runs >= 1 and --warmup >= 0")
    return args


def main() -> None:
    """Parse options, fix the torch thread count, time everything and print the table."""
    args = parse_args()
    torch.set_num_threads(args.threads)
    load_before, raw = os.getloadavg(), {}
    rows = run(args, raw)
    print_table(rows, args)
    if args.out:
        record = {
            "script": "benchmarks/metric_speed.py",
            "args": vars(args),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "rows": [{"name": n, "device": d, "median_ms": m, "min_ms": b} for n, d, m, b in rows],
            "times_ms": raw,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(record, f, indent=1)
        print(f"raw output: {args.out}")


if __name__ == "__main__":
    main()
