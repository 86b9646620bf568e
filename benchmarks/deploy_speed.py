"""Inference latency and output size of the n model at 512x1024 on this CPU: PyTorch, ONNX Runtime, OpenVINO.

Usage:
    python benchmarks/deploy_speed.py [--model yolo11n-semseg.yaml] [--runs 20] [--threads 2] [--out PATH.json]

All runtimes are timed in one process, alternately, with the same number of threads, batch 1, after warm-up; the
table gives the median and the interquartile range. "end to end" is what `predict` returns: a uint8 class map at the
input size (PyTorch: forward + x4 upsampling + argmax; exported graphs do the same inside). Output bytes per frame are
those of each `export_output` choice. The weights are random: latency does not depend on them. `--out` writes every
timing, the rows, each runtime's median ratio to ONNX Runtime and the load average before and after (`os.getloadavg`)
as the raw output the docs cite.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def timeit(fn, runs: int, warmup: int = 3) -> tuple[float, float, float]:
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    return med, q1, q3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="yolo11n-semseg.yaml")
    parser.add_argument("--nc", type=int, default=19)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the raw timings to this JSON file")
    args = parser.parse_args()
    load_before = os.getloadavg()
    os.environ.setdefault("YOLO_OFFLINE", "true")

    import onnxruntime as ort
    import torch
    from ultralytics import YOLO

    from ultralytics_semseg.nn.model import SemSegModel
    from ultralytics_semseg.nn.outputs import EXPORT_OUTPUTS

    torch.set_num_threads(args.threads)
    h, w = 512, 1024
    tmp = Path(tempfile.mkdtemp())
    model = SemSegModel(args.model, nc=args.nc, verbose=False).eval()
    pt = tmp / "m.pt"
    torch.save({"model": model.half(), "train_args": {"task": "semseg"}}, pt)
    model.float()
    yolo = YOLO(str(pt))
    yolo.model.task = "semseg"
    x = torch.rand(1, 3, h, w)
    fused = SemSegModel(args.model, nc=args.nc, verbose=False).eval().fuse(verbose=False)
    head = fused.model[-1]

    def torch_end_to_end():
        with torch.inference_mode():
            head.export_outputs(fused(x))

    rows, sizes = [], {}
    for mode in EXPORT_OUTPUTS:
        f = yolo.export(format="onnx", imgsz=[h, w], export_output=mode, verbose=False)
        s = ort.InferenceSession(f, providers=["CPUExecutionProvider"], sess_options=_ort_options(ort, args.threads))
        outs = s.run(None, {"images": x.numpy()})
        sizes[mode] = sum(o.nbytes for o in outs)
        if mode == "classmap":
            onnx_session = s
    f_ov = yolo.export(format="openvino", imgsz=[h, w], verbose=False)
    ov_run = _openvino(f_ov, args.threads)

    funcs = {
        "PyTorch (fused, forward + upsample + argmax)": torch_end_to_end,
        "ONNX Runtime (classmap graph)": lambda: onnx_session.run(None, {"images": x.numpy()}),
        "OpenVINO FP32 (classmap graph)": lambda: ov_run(x.numpy()),
    }
    torch.set_num_threads(args.threads)  # Ultralytics' select_device() resets it to cores - 1 during export
    results = {k: [] for k in funcs}
    for _ in range(3):  # interleave the runtimes so that machine noise hits all of them alike
        for k, fn in funcs.items():
            results[k].append(timeit(fn, max(args.runs // 3, 5)))
    for k, r in results.items():
        med = np.median([x[0] for x in r])
        rows.append(f"| {k} | {med:.1f} | {min(x[1] for x in r):.1f}–{max(x[2] for x in r):.1f} |")

    print(f"\n{args.model} nc={args.nc}, input 1x3x{h}x{w}, {args.threads} threads, torch {torch.__version__}")
    print("| runtime | median ms | IQR ms |\n| --- | --- | --- |")
    print("\n".join(rows))
    print("\n| export_output | bytes per frame |\n| --- | --- |")
    for mode, n in sizes.items():
        print(f"| {mode} | {n:,} |")
    if args.out:
        medians = {k: float(np.median([x[0] for x in r])) for k, r in results.items()}
        ref = medians["ONNX Runtime (classmap graph)"]
        record = {
            "script": "benchmarks/deploy_speed.py",
            "args": {k: str(v) for k, v in vars(args).items()},
            "input": [1, 3, h, w],
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "median_ms": medians,
            "ratio_to_onnxruntime": {k: m / ref for k, m in medians.items()},
            "blocks_median_q1_q3_ms": results,
            "bytes_per_frame": sizes,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"raw output: {args.out}")


def _ort_options(ort, threads: int):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    return o


def _openvino(path: str, threads: int):
    import openvino as ov

    core = ov.Core()
    xml = next(Path(path).glob("*.xml"))
    cfg = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": ov.Type.f32}
    compiled = core.compile_model(core.read_model(xml), "CPU", cfg)
    return lambda a: compiled(a)


if __name__ == "__main__":
    main()
