"""Where the milliseconds go: ONNX Runtime's per-node profile of our model and of Ultralytics' `yolo26n-sem`.

Usage:
    python benchmarks/decoder_profile.py [--models yolo11n-semseg.yaml,yolo26n-semseg.yaml,yolo26n-sem.yaml]
                                         [--nc 19] [--runs 20]
    python benchmarks/decoder_profile.py --models yolo11n-semseg.yaml:concat4,yolo11n-semseg.yaml,yolo26n-sem.yaml
        # `yaml:head` swaps in a decoder variant of benchmarks/ablate.py (HEADS)
    python benchmarks/decoder_profile.py --nc 8 --runs 40 --out benchmarks/results/decoder_profile/NAME.json

Each model is exported with its default ONNX export (uint8 class map at the input size, 1x3x512x1024, the yaml's
own class count, 19 for all three, unless `--nc` sets another) and run with
ONNX Runtime's profiler (2 threads, batch 1, the models alternated run by run on a real satellite crop). Every node's
kernel time is put in one of four parts by the resolution it writes:

* backbone + neck: every layer before the head;
* head, stride 8-32: the head's work at the pyramid's resolutions;
* head, stride 4: the head's work at 1/4 of the input (our detail path and refinement);
* layout reorders: ONNX Runtime's conversions between NCHW and its blocked NCHWc layout (below the input size);
* full-resolution tail: everything that writes a tensor of the input's size (the upsampling of the logits to the
  input, the argmax, the cast, and the reorder of the upsampled logits where the graph has one).

The table gives the mean ms per run of each part; the whole-graph median comes from the same runs. Run it on a quiet
machine: with another job running every number grows and the parts stop adding up to a stable total. `--out` writes
the table's numbers, every whole-run time and the load average before and after the timed runs as a JSON file (the
raw output the docs cite).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PARTS = ("backbone + neck", "head, stride 8-32", "head, stride 4", "layout reorders", "full-resolution tail")


def export(model: str, folder: Path, nc: int | None = None) -> tuple[str, int, int]:
    """ONNX file of `model` (a yaml gives random weights, with `nc` classes if given), its head's index and its nc."""
    from ablate import decoder
    from transfer import untrained
    from ultralytics import YOLO

    import ultralytics_semseg  # noqa: F401  (registers the task)

    model, _, head = model.partition(":")  # yaml:head builds a decoder variant of benchmarks/ablate.py
    task = "semantic" if model.endswith("-sem.yaml") else None
    with decoder(head):
        y = YOLO(model, task=task) if nc is None else untrained(model, task, nc, folder)
    f = y.export(format="onnx", imgsz=[512, 1024], verbose=False)
    dest = folder / f"{Path(model).stem}{'-' + head if head else ''}.onnx"
    os.replace(f, dest)
    return str(dest), len(y.model.model) - 1, len(y.names)


def label(model: str) -> str:
    """'yolo11n-semseg.yaml:concat4' -> 'yolo11n-semseg concat4'."""
    model, _, head = model.partition(":")
    return f"{Path(model).stem} {head}".strip()


def part(name: str, shape: list, head: int, hw: tuple[int, int]) -> str:
    """The part of the graph a node belongs to, from its name and the shape it writes."""
    h, w = hw
    if h in shape and w in shape:
        return PARTS[4]
    if "Reorder" in name:
        return PARTS[3]
    if f"/model.{head}/" not in name:
        return PARTS[0]
    return PARTS[2] if h // 4 in shape and w // 4 in shape else PARTS[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="yolo11n-semseg.yaml,yolo26n-semseg.yaml,yolo26n-sem.yaml")
    p.add_argument("--nc", type=int, default=None, help="class count for every model (default: each yaml's own)")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--out", type=Path, default=None, help="write the parts, whole-run times and load to this JSON")
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")
    import onnxruntime as ort
    from transfer import real_image

    x = real_image()
    folder = Path(tempfile.mkdtemp(prefix="decoder_profile_"))
    models = args.models.split(",")
    sessions, heads, ncs = {}, {}, {}
    for m in models:
        f, heads[m], ncs[m] = export(m, folder, args.nc)
        o = ort.SessionOptions()
        o.intra_op_num_threads, o.inter_op_num_threads = 2, 1
        o.enable_profiling, o.profile_file_prefix = True, str(folder / label(m).replace(" ", "_"))
        sessions[m] = ort.InferenceSession(f, o, providers=["CPUExecutionProvider"])
        sessions[m].run(None, {"images": x})
    load_before = os.getloadavg()
    load0 = load_before[0]
    total = {m: [] for m in models}
    for _ in range(args.runs):
        for m, s in sessions.items():
            t = time.perf_counter()
            s.run(None, {"images": x})
            total[m].append((time.perf_counter() - t) * 1e3)
    parts = {}
    for m, s in sessions.items():
        acc = defaultdict(float)
        for e in json.loads(Path(s.end_profiling()).read_text()):
            if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
                out = e["args"].get("output_type_shape") or [{}]
                shape = next(iter(out[0].values()), []) if out else []
                acc[part(e["name"], shape, heads[m], x.shape[2:])] += e["dur"] / 1e3
        parts[m] = {k: v / (args.runs + 1) for k, v in acc.items()}  # +1: the warm-up run is profiled too
    print(f"ONNX Runtime 2 threads, 1x3x{x.shape[2]}x{x.shape[3]}, nc {sorted(set(ncs.values()))}, "
          f"{args.runs} alternated runs, load {load0:.1f}/{os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| part | " + " | ".join(f"`{label(m)}` ms" for m in models) + " |")
    print("| --- " * (1 + len(models)) + "|")
    for k in PARTS:
        print(f"| {k} | " + " | ".join(f"{parts[m].get(k, 0):.1f}" for m in models) + " |")
    print("| sum of kernels | " + " | ".join(f"{sum(parts[m].values()):.1f}" for m in models) + " |")
    print("| whole run, median | " + " | ".join(f"{np.median(total[m]):.1f}" for m in models) + " |")
    if args.out:
        record = {
            "script": "benchmarks/decoder_profile.py",
            "args": {k: str(v) for k, v in vars(args).items()},
            "input": list(x.shape),
            "onnxruntime": ort.__version__,
            "cpus": os.cpu_count(),
            "nc": ncs,
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "parts_ms_per_run": parts,
            "sum_of_kernels_ms": {m: sum(v.values()) for m, v in parts.items()},
            "whole_run_median_ms": {m: float(np.median(t)) for m, t in total.items()},
            "whole_run_ms": total,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"raw output: {args.out}")


if __name__ == "__main__":
    main()
