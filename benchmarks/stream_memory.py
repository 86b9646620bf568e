"""Resident memory and speed of `predict(stream=True)` over a long folder of frames: flat after the warm-up?

Writes `--frames` synthetic street-scene frames (the built-in generator, `--size` pixels wide) into a temporary
folder, runs `YOLO(model).predict(folder, stream=True)` over them, discards each result as a streaming user would,
and samples the process's resident set size (RSS) and the frames per second every `--every` frames. Prints one JSON
object: the samples, RSS at the end of the warm-up and at the end, the growth in per cent, and fps of the first and
last window after the warm-up. `--out` also writes it to a file (benchmarks/results/stream_memory/).

Examples:
    $ python benchmarks/stream_memory.py                      # 2,000 frames, the committed measurement
    $ python benchmarks/stream_memory.py --frames 120 --warmup 40 --every 20   # what tests/test_faults.py runs
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    """Resident set size of this process in MB."""
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def make_frames(folder: Path, n: int, width: int) -> None:
    """`n` JPEG frames of generated street scenes (a handful of scenes, cycled, so that writing them is quick)."""
    import cv2

    from ultralytics_semseg.data.synthetic_streets import generate_synthetic_streets

    src = generate_synthetic_streets(folder / "src", n_train=8, n_val=0, height=width // 2, width=width, seed=0)
    scenes = [cv2.imread(str(p)) for p in sorted((Path(src) / "images" / "train").glob("*.jpg"))]
    frames = folder / "frames"
    frames.mkdir()
    for i in range(n):
        cv2.imwrite(str(frames / f"{i:06d}.jpg"), scenes[i % len(scenes)])


def measure(model: str, frames: Path, imgsz: int, warmup: int, every: int) -> dict:
    """Stream the folder through the model; RSS and fps samples every `every` frames."""
    from ultralytics import YOLO

    yolo = YOLO(model)
    samples, t0 = [], time.perf_counter()
    for i, result in enumerate(yolo.predict(frames, stream=True, imgsz=imgsz, verbose=False, device="cpu"), 1):
        del result
        if i % every == 0:
            gc.collect()
            t = time.perf_counter()
            samples.append({"frame": i, "rss_mb": round(rss_mb(), 1), "fps": round(every / (t - t0), 1)})
            t0 = t
    after = [s for s in samples if s["frame"] >= warmup]
    base, end = after[0]["rss_mb"], after[-1]["rss_mb"]
    return {
        "frames": samples[-1]["frame"],
        "warmup_frames": after[0]["frame"],
        "rss_after_warmup_mb": base,
        "rss_end_mb": end,
        "rss_max_after_warmup_mb": max(s["rss_mb"] for s in after),
        "growth_percent": round(100 * (end - base) / base, 2),
        "fps_first_window": after[1]["fps"] if len(after) > 1 else after[0]["fps"],
        "fps_last_window": after[-1]["fps"],
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> dict:
    """Command line entry point; returns the result dict it prints."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="yolo11n-semseg.pt")
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--size", type=int, default=320, help="frame width in pixels (height is half)")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    a = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        make_frames(Path(tmp), a.frames, a.size)
        result = measure(a.model, Path(tmp) / "frames", a.imgsz, a.warmup, a.every)
    import torch
    import ultralytics

    result["setup"] = {
        "model": a.model,
        "frame_size": [a.size // 2, a.size],
        "imgsz": a.imgsz,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ultralytics": ultralytics.__version__,
        "cpu_threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    text = json.dumps(result, indent=1)
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    os.environ.setdefault("YOLO_OFFLINE", "true")
    main(sys.argv[1:])
