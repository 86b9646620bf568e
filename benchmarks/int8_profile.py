"""Where OpenVINO INT8 time goes: per-layer profile of the FP32 and INT8 exports of a trained semseg model.

Usage:
    python benchmarks/int8_profile.py [--model yolo11n-semseg.pt] [--data synthetic-streets.yaml] [--imgsz 512 1024]
                                      [--runs 20] [--threads 2] [--out benchmarks/results/int8_profile]

Exports `--model` (default: the packaged, trained `yolo11n-semseg.pt`) to OpenVINO FP32 and INT8 (`quantize=8`, NNCF
calibrated on `--data`) at a static (h, w), compiles both with per-layer performance counters (2 threads, latency
hint, FP32 inference precision as the export's own runtime uses), runs them alternately on a real photo
(Ultralytics' bus.jpg, letterboxed) and sums each layer's measured time over the runs. The tables group the layers by
the part of the model they belong to (backbone and neck convolutions, the decoder head, the export tail: the
full-resolution Resize and ArgMax) and by the precision each layer executed in (from its kernel name, e.g.
`brgconv_avx512_I8`), and list the slowest layers that ran in FP32 inside the INT8 model. The JSON with every layer
goes to `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from int8_speed import real_image  # noqa: E402

TAIL_TYPES = {"Interpolate", "ArgMax", "TopK", "Convert", "Result", "Slice", "StridedSlice", "Pad"}


def precision(exec_type: str) -> str:
    """'I8', 'FP32', 'BF16', 'FP16' or 'other', from an OpenVINO kernel name such as 'brgconv_avx512_I8'."""
    for p in ("I8", "U8", "FP32", "F32", "BF16", "FP16", "F16", "I32"):
        if exec_type.upper().endswith(p):
            return {"U8": "I8", "F32": "FP32", "F16": "FP16"}.get(p, p)
    return "other"


def part(node_name: str, node_type: str, head: int) -> str:
    """Which part of the model a layer belongs to, from its name in the exported graph (`head`: the head's index)."""
    if node_type in TAIL_TYPES or "ArgMax" in node_name or "Resize" in node_name:
        return "export tail (Resize to input size, ArgMax, casts)"
    if node_type in {"Reorder", "Transpose"}:
        return "layout reorders"
    if f"model.{head}." in node_name or f"model.{head}/" in node_name:
        return "decoder head"
    return "backbone and neck"


def head_index(layers: dict) -> int:
    """The largest `model.N` index in the layer names: the head, the model's last layer."""
    return max(int(m) for n in layers for m in re.findall(r"model\.(\d+)", n))


def profile(path: str, x: np.ndarray, runs: int, threads: int, compiled_cfg: dict) -> tuple[dict, list[float]]:
    """Per-layer summed real time (ms) over `runs` inferences, and each inference's wall time (ms)."""
    import openvino as ov

    core = ov.Core()
    xml = next(Path(path).glob("*.xml"))
    compiled = core.compile_model(core.read_model(xml), "CPU", {**compiled_cfg, "INFERENCE_NUM_THREADS": threads})
    req = compiled.create_infer_request()
    for _ in range(3):
        req.infer({0: x})
    layers: dict[str, dict] = {}
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        req.infer({0: x})
        walls.append((time.perf_counter() - t) * 1e3)
        for p in req.profiling_info:
            if p.status != p.Status.EXECUTED:
                continue
            d = layers.setdefault(p.node_name, {"type": p.node_type, "exec": p.exec_type, "ms": 0.0})
            d["ms"] += p.real_time.total_seconds() * 1e3 / runs
    return layers, walls


def summarize(layers: dict) -> dict:
    """ms per (part, precision) and per part."""
    by, head = defaultdict(float), head_index(layers)
    for name, d in layers.items():
        by[(part(name, d["type"], head), precision(d["exec"]))] += d["ms"]
    return {f"{k[0]} | {k[1]}": v for k, v in sorted(by.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="yolo11n-semseg.pt")
    ap.add_argument("--data", default="synthetic-streets.yaml")
    ap.add_argument("--imgsz", type=int, nargs=2, default=[512, 1024])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "int8_profile"))
    args = ap.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")

    import shutil
    import tempfile

    import openvino as ov
    import torch
    from ultralytics import YOLO

    import ultralytics_semseg  # noqa: F401
    from ultralytics_semseg.cfg import resolve_weights

    model = Path(tempfile.mkdtemp(prefix="int8_profile_")) / Path(args.model).name  # exports land beside the copy
    shutil.copy(resolve_weights(args.model), model)
    kw = dict(imgsz=args.imgsz, verbose=False)
    files = {
        "FP32": YOLO(str(model)).export(format="openvino", **kw),
        "INT8": YOLO(str(model)).export(format="openvino", quantize=8, data=args.data, **kw),
    }
    torch.set_num_threads(args.threads)
    x = real_image(args.imgsz)
    cfg = {"PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": "YES", "INFERENCE_PRECISION_HINT": ov.Type.f32}
    res = {"model": args.model, "data": args.data, "imgsz": args.imgsz, "threads": args.threads, "runs": args.runs,
           "load_before": os.getloadavg()[0], "openvino": ov.__version__, "cpu": platform.processor() or "",
           "contenders": {}}  # fmt: skip
    for k, f in files.items():
        layers, walls = profile(f, x, args.runs, args.threads, cfg)
        res["contenders"][k] = {"median_wall_ms": float(np.median(walls)), "layer_sum_ms": sum(
            d["ms"] for d in layers.values()), "by_part": summarize(layers), "layers": layers}  # fmt: skip
    res["load_after"] = os.getloadavg()[0]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{time.strftime('%Y-%m-%d')}.json").write_text(json.dumps(res, indent=1))
    fp, i8 = res["contenders"]["FP32"], res["contenders"]["INT8"]
    print(f"\n{args.model} at {args.imgsz[0]}x{args.imgsz[1]}, {args.threads} threads, OpenVINO {ov.__version__}, "
          f"load {res['load_before']:.1f}/{res['load_after']:.1f}")  # fmt: skip
    print(f"median wall ms: FP32 {fp['median_wall_ms']:.1f}, INT8 {i8['median_wall_ms']:.1f} "
          f"({fp['median_wall_ms'] / i8['median_wall_ms']:.2f}x)\n")  # fmt: skip
    print("| part | precision | FP32 model ms | INT8 model ms |\n| --- | --- | --- | --- |")
    for key in sorted(set(fp["by_part"]) | set(i8["by_part"])):
        p, prec = key.split(" | ")
        print(f"| {p} | {prec} | {fp['by_part'].get(key, 0):.1f} | {i8['by_part'].get(key, 0):.1f} |")
    slow = sorted(((d["ms"], n, d["type"], d["exec"]) for n, d in i8["layers"].items()
                   if precision(d["exec"]) != "I8"), reverse=True)[:12]  # fmt: skip
    print("\nSlowest layers of the INT8 model that did not run in INT8:\n| ms | layer | type | kernel |\n| --- | --- | "
          "--- | --- |")  # fmt: skip
    for ms, n, t, e in slow:
        print(f"| {ms:.2f} | {n[-60:]} | {t} | {e} |")


if __name__ == "__main__":
    main()
