"""OpenVINO class-map tails: which graph from the stride-4 logits to the class map runs fastest, FP32 and INT8.

Usage:
    python benchmarks/openvino_tail.py [--tails flat,nhwc,runmax] [--rounds 12] [--runs 10] [--threads 2] [--out DIR]

The packaged `yolo11n-semseg.pt` is exported to OpenVINO at 512x1024, FP32 and INT8 (`quantize=8`, calibrated on
the built-in synthetic streets), once per tail; every tail computes the same class map (checked: equal pixels):

* ``flat``: the package's tail for `format=openvino` (bilinear x4, ArgMax over a (B, C, H*W) view);
* ``nhwc``: bilinear x4, then the ArgMax over the last axis of the logits transposed to (B, H, W, C);
* ``runmax``: bilinear x4, then a running maximum over the class planes (compare, max, select per class), the
  elementwise route the PyTorch predictor takes on the CPU (`utils.ops.to_original_classes`).

Latency: bus.jpg letterboxed to 512x1024, batch 1, FP32 inference precision everywhere (as the predictor compiles
them), every model in each of `--rounds` rounds of `--runs` calls, alternated; the table gives the median, the range
of round medians and the per-round ratio to the ``flat`` FP32 model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from int8_speed import real_image  # noqa: E402

OUT = Path(__file__).parent / "results" / "openvino_tail"


def running_max(planes: list):
    """Index of the first maximum over `planes` (each (B, H, W)) by a running maximum: uint8 class map."""
    import torch

    best, index = planes[0], torch.zeros_like(planes[0], dtype=torch.uint8)
    for c in range(1, len(planes)):
        greater = planes[c] > best
        best = torch.maximum(best, planes[c])
        index = torch.where(greater, torch.full_like(index, c), index)
    return index


def tail(kind: str, package_tail):
    """An `ExportOutputs.export_outputs` replacement for the class map of `kind` (the package's for 'flat')."""
    import torch

    from ultralytics_semseg.utils.ops import upsample_logits

    def export_outputs(self, logits):
        if kind == "flat":
            return package_tail(self, logits)
        up = self.crop(upsample_logits(logits, scale_factor=self.out_stride))
        if kind == "nhwc":
            return up.permute(0, 2, 3, 1).argmax(-1).to(torch.uint8)
        return running_max([up[:, c] for c in range(up.shape[1])])

    return export_outputs


def export(kind: str, folder: Path) -> dict[str, str]:
    """FP32 and INT8 OpenVINO exports of the packaged model with tail `kind`."""
    from ultralytics import YOLO

    from ultralytics_semseg.cfg import WEIGHTS_DIR
    from ultralytics_semseg.nn import outputs

    folder.mkdir(parents=True)
    weights = folder / "yolo11n-semseg.pt"  # a copy: exports land beside the weights
    shutil.copy(WEIGHTS_DIR / "yolo11n-semseg.pt", weights)
    package_tail = outputs.ExportOutputs.export_outputs
    outputs.ExportOutputs.export_outputs = tail(kind, package_tail)
    try:
        kw = dict(format="openvino", imgsz=[512, 1024], verbose=False)
        return {
            "FP32": YOLO(str(weights)).export(**kw),
            "INT8": YOLO(str(weights)).export(**kw, quantize=8, data="synthetic-streets.yaml"),
        }
    finally:
        outputs.ExportOutputs.export_outputs = package_tail


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tails", default="flat,nhwc,runmax")
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")
    import openvino as ov

    tmp = Path(tempfile.mkdtemp(prefix="openvino_tail_"))
    os.chdir(tmp)
    core, x = ov.Core(), real_image([512, 1024])
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": args.threads,
              "INFERENCE_PRECISION_HINT": ov.Type.f32}  # fmt: skip
    models = {}
    for kind in args.tails.split(","):
        for precision, f in export(kind, tmp / kind).items():
            xml = next(Path(f).glob("*.xml"))
            models[f"{kind} {precision}"] = core.compile_model(core.read_model(xml), "CPU", config)
    maps = {k: np.asarray(next(iter(m(x).values()))).reshape(512, 1024) for k, m in models.items()}
    same = {k: float((v == maps[f"flat {k.split()[1]}"]).mean()) for k, v in maps.items()}
    load0 = os.getloadavg()[0]
    times = {k: [] for k in models}
    for _ in range(args.rounds):
        for k, m in models.items():
            m(x), m(x)
            ts = []
            for _ in range(args.runs):
                t = time.perf_counter()
                m(x)
                ts.append((time.perf_counter() - t) * 1e3)
            times[k].append(float(np.median(ts)))
    base = np.array(times["flat FP32"])
    lines = ["| tail | precision | median ms | round medians ms | flat FP32 / this | class map = flat's |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for k, v in times.items():
        v = np.array(v)
        lines.append(f"| {k.split()[0]} | {k.split()[1]} | {np.median(v):.1f} | {v.min():.1f}–{v.max():.1f} | "
                     f"{np.median(base / v):.2f} | {100 * same[k]:.2f} % |")  # fmt: skip
    print("\n".join(lines))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d-%H%M")
    result = dict(openvino=ov.__version__, threads=args.threads, rounds=args.rounds, runs=args.runs,
                  load_before=load0, load_after=os.getloadavg()[0], times_ms=times, equal_to_flat=same)  # fmt: skip
    (out / f"{stamp}.json").write_text(json.dumps(result, indent=1))
    (out / f"{stamp}.md").write_text("\n".join(lines) + "\n")
    print(f"raw: {out / stamp}.json")


if __name__ == "__main__":
    main()
