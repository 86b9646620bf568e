"""INT8 on CPU: FP32 vs INT8 latency at 512x1024 on a real image, and the mIoU the INT8 models lose.

Usage:
    python benchmarks/int8_speed.py --model runs/semseg/train/weights/best.pt --data synthetic-streets.yaml
        [--data other.yaml ...] [--imgsz 512 1024] [--rounds 5] [--runs 10] [--threads 2] [--val-imgsz 128 256]

Contenders, all exported from `--model` by `yolo export` at a static (h, w) with the default class-map output:
OpenVINO FP32, OpenVINO INT8 (`quantize=8`, NNCF post-training quantization calibrated on the first `--data`),
ONNX Runtime FP32 and ONNX Runtime INT8 (`format=onnx quantize=8`: Ultralytics' static QDQ quantization with ONNX
Runtime, calibrated on the same images through the semseg calibration loader). Latency: one process, the same number
of threads, batch 1, a real photo (Ultralytics' bus.jpg) letterboxed to (h, w); the contenders run alternately in
`--rounds` rounds of `--runs` calls so that machine noise hits all of them alike. The table gives the median, the
spread of the round medians, and the FP32/INT8 ratio per runtime. Accuracy: `val` of every export on each `--data`
(batch 1, the export's input size, or exports made at `--val-imgsz`: the model's own scale), mIoU and its drop
against the same runtime's FP32 model in points.
Target of issue 12: INT8 >= 2x faster than FP32 at <= 1 mIoU point lost.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from deploy_speed import _openvino, _ort_options, timeit  # noqa: E402  (same timing helpers as the deploy table)


def export_all(model: str, imgsz: list[int], data: str) -> dict[str, str]:
    """The four contenders' files."""
    from ultralytics import YOLO

    kw = dict(imgsz=imgsz, verbose=False)
    # the INT8 ONNX export writes and then deletes <stem>.onnx on its way to <stem>_int8.onnx: it goes first
    onnx_int8 = YOLO(model).export(format="onnx", quantize=8, data=data, **kw)
    return {
        "OpenVINO FP32": YOLO(model).export(format="openvino", **kw),
        "OpenVINO INT8": YOLO(model).export(format="openvino", quantize=8, data=data, **kw),
        "ONNX Runtime FP32": YOLO(model).export(format="onnx", **kw),
        "ONNX Runtime INT8": onnx_int8,
    }


def real_image(imgsz: list[int]) -> np.ndarray:
    """Ultralytics' bus.jpg, letterboxed like `predict` does, as a (1, 3, h, w) float32 RGB array in 0..1."""
    import cv2
    from ultralytics.utils import ASSETS

    from ultralytics_semseg.data.augment import letterbox

    im, _ = letterbox(cv2.imread(str(ASSETS / "bus.jpg")), tuple(imgsz), stride=32, auto=False)
    return np.ascontiguousarray(im[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255


def runner(name: str, f: str, threads: int):
    if name.startswith("OpenVINO"):
        return _openvino(f, threads)
    import onnxruntime as ort

    s = ort.InferenceSession(f, providers=["CPUExecutionProvider"], sess_options=_ort_options(ort, threads))
    return lambda a: s.run(None, {"images": a})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="trained semseg weights (.pt)")
    parser.add_argument("--data", action="append", required=True, help="dataset YAML(s); the first calibrates")
    parser.add_argument("--imgsz", type=int, nargs=2, default=[512, 1024])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--val-imgsz", type=int, nargs=2, help="validate exports made at this (h, w) instead of the timed ones"
    )
    args = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")

    import torch
    from ultralytics import YOLO

    files = export_all(args.model, args.imgsz, args.data[0])
    torch.set_num_threads(args.threads)  # Ultralytics' select_device() changes it during export
    x = real_image(args.imgsz)
    fns = {k: runner(k, f, args.threads) for k, f in files.items()}
    rounds = {k: [] for k in fns}
    for _ in range(args.rounds):
        for k, fn in fns.items():
            rounds[k].append(timeit(lambda fn=fn: fn(x), args.runs)[0])
    med = {k: float(np.median(v)) for k, v in rounds.items()}

    print(f"\n{args.model}, input 1x3x{args.imgsz[0]}x{args.imgsz[1]} (bus.jpg), {args.threads} threads")
    print("| runtime | median ms | round medians ms | FP32 / INT8 |\n| --- | --- | --- | --- |")
    for k, v in rounds.items():
        fp32 = k.replace("INT8", "FP32")
        ratio = f"{med[fp32] / med[k]:.2f}x" if k != fp32 else ""
        print(f"| {k} | {med[k]:.1f} | {min(v):.1f}–{max(v):.1f} | {ratio} |")

    if args.val_imgsz:  # the model's own scale: a model validated far from it is near-random, its drop meaningless
        files = export_all(args.model, args.val_imgsz, args.data[0])
    val_imgsz = args.val_imgsz or args.imgsz
    print(f"\nvalidated through exports at {val_imgsz[0]}x{val_imgsz[1]}")
    print("| dataset | runtime | mIoU FP32 | mIoU INT8 | drop (points) |\n| --- | --- | --- | --- | --- |")
    for d in args.data:
        kw = dict(data=d, imgsz=max(val_imgsz), batch=1, plots=False, verbose=False)
        miou = {k: YOLO(f, task="semseg").val(**kw).semseg.IoU for k, f in files.items()}
        for rt in ("OpenVINO", "ONNX Runtime"):
            a, b = miou[f"{rt} FP32"], miou[f"{rt} INT8"]
            print(f"| {Path(d).stem} | {rt} | {100 * a:.2f} | {100 * b:.2f} | {100 * (a - b):.2f} |")


if __name__ == "__main__":
    main()
