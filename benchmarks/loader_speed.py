"""Throughput of the semseg training data pipeline (images/s), with and without cache='ram', for several worker counts.

The pipeline is the one training uses: read (or take from RAM) the image and its class map, random resize 0.5-1.5,
random 512x1024 crop, HSV jitter, horizontal flip, tensor conversion and batch collation, through Ultralytics'
`build_dataloader`. Images are synthetic street scenes of 512x1024 pixels (JPEG) with PNG masks, generated once.

Usage:
    python benchmarks/loader_speed.py                        # 64 images, batch 8, workers 0 and 2, no cache and ram
    python benchmarks/loader_speed.py --n 128 --workers 0 1 2 --batches 40

"cores busy" is the CPU time of the process and its loader workers divided by the wall time: on a 2-core machine,
2.0 means the loader alone keeps both cores busy. "images per CPU-second" is the work per image, which other processes
on the machine do not change: images/s is at most that times the number of free cores. Ultralytics' trainer sets
workers=0 on CPU devices (the model then uses the cores); workers matter when a GPU runs the model.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import psutil


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU seconds of a process and its live children."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def forever(loader):
    """Batches across epochs (Ultralytics' InfiniteDataLoader keeps its workers between epochs)."""
    while True:
        yield from loader


def measure(data: dict, cache: str | None, workers: int, batch: int, batches: int) -> dict:
    """Build the training dataset and loader, warm up, then time `batches` batches."""
    from ultralytics.cfg import get_cfg
    from ultralytics.data.build import build_dataloader

    from ultralytics_semseg.cfg import load_defaults
    from ultralytics_semseg.data.dataset import SemSegDataset

    hyp = get_cfg(overrides={**load_defaults(), "imgsz": 1024})
    t0 = time.perf_counter()
    ds = SemSegDataset(
        data["train"], data=data, imgsz=1024, augment=True, hyp=hyp, cache=cache, batch_size=batch, prefix=""
    )
    build_s = time.perf_counter() - t0
    # Ultralytics keeps the last batch*8 decoded images for its mosaic: with this small benchmark set that would act
    # as a RAM cache and inflate cache=none; real datasets (thousands of images) rarely hit it, so it is turned off.
    ds.max_buffer_length = 1
    loader = build_dataloader(ds, batch, workers, shuffle=True, rank=-1, drop_last=True)
    it = forever(loader)
    first = next(it)  # starts the workers
    proc = psutil.Process()
    for _ in range(2):
        next(it)
    c0, t0, n = cpu_seconds(proc), time.perf_counter(), 0
    for _ in range(batches):
        n += len(next(it)["img"])
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(proc) - c0
    del it, loader
    return {
        "ips": n / wall,
        "busy": cpu / wall,
        "ipc": n / cpu,
        "shape": tuple(first["img"].shape[2:]),
        "build_s": build_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "semseg-loader-bench")
    parser.add_argument("--n", type=int, default=64, help="training images")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=24, help="timed batches per setting")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--cache", nargs="+", default=["none", "ram"], choices=["none", "ram"])
    a = parser.parse_args()

    from ultralytics_semseg.data.build import check_semseg_dataset
    from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets

    root = generate_synthetic_streets(a.root / f"n{a.n}", n_train=a.n, n_val=2, height=512, width=1024)
    yaml_file = root.parent / f"n{a.n}.yaml"
    yaml_file.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: {list(STREET_NAMES.values())}\n")
    data = check_semseg_dataset(yaml_file)
    rows = []
    for cache in a.cache:
        for workers in a.workers:
            r = measure(data, None if cache == "none" else cache, workers, a.batch, a.batches)
            rows.append((cache, workers, r))
            print(f"cache={cache} workers={workers}: {r['ips']:.1f} images/s, {r['busy']:.2f} cores busy", flush=True)
    print(f"\n{a.n} images of 512x1024 (JPEG + PNG mask), crops {rows[0][2]['shape']}, batch {a.batch}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end\n")  # fmt: skip
    print("| cache | workers | images/s | cores busy | images per CPU-second | dataset build (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for cache, workers, r in rows:
        print(f"| {cache} | {workers} | {r['ips']:.1f} | {r['busy']:.2f} | {r['ipc']:.1f} | {r['build_s']:.1f} |")


if __name__ == "__main__":
    main()
