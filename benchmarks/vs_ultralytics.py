"""Head-to-head: our n model against Ultralytics' native `yolo26n-sem`, same data, budget, seed, and evaluator.

Usage:
    python benchmarks/vs_ultralytics.py [--epochs 20] [--imgsz 256] [--batch 16] [--out runs/vs-ultralytics]

For each dataset (the built-in synthetic streets, and "blobs": a generated set of few large classes with fine,
wiggly boundaries) both models are trained with the same epochs, image size, batch and seed, each with its own task's
training recipe (that is what a user gets); a third run trains yolo26n-sem with our task's training defaults, so the
difference of architecture + loss shows apart from the recipe (`--no-same-recipe` skips it). All are evaluated by
*our* validator at the original label resolution, so the comparison does not depend on either task's evaluation
quirks. Latency is measured at 512x1024, 2 threads, batch 1, both models alternately in one process, median of >= 20
runs after warm-up: PyTorch (forward + upsampling to the input size + argmax) and ONNX Runtime (each model's default
export, a uint8 class map). The script
also measures the machine's float32 matrix-multiply peak and reports the achieved GFLOP/s of our forward against it.
The whole comparison takes about 17 minutes on a 2-core CPU with the defaults (13 without the third run).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

OURS, THEIRS = "yolo11n-semseg.yaml", "yolo26n-sem.yaml"
SAME_RECIPE = "yolo26n-sem (our recipe)"


def make_blobs(root: Path, n_train: int = 96, n_val: int = 24, h: int = 128, w: int = 256, seed: int = 0) -> Path:
    """Few large classes with fine boundaries: 4 smooth random fields, argmax -> class map, textured colours."""
    if (root / "data.yaml").exists():
        return root / "data.yaml"
    names = ["water", "field", "forest", "urban"]
    palette = np.array([[140, 90, 40], [60, 170, 190], [50, 120, 40], [120, 120, 130]])  # BGR, class identity
    for split, n, off in (("train", n_train, 0), ("val", n_val, 10_000)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "masks" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rng = np.random.default_rng(seed + off + i)
            fields = [cv2.resize(rng.random((6, 12)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
                      + 0.08 * cv2.resize(rng.random((32, 64)).astype(np.float32), (w, h)) for _ in names]  # fmt: skip
            mask = np.argmax(fields, 0).astype(np.uint8)
            base = palette + rng.integers(-30, 31, palette.shape)  # per-image lighting, overlapping between classes
            img = base[mask] + rng.normal(0, 25, (h, w, 3))
            img = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0).clip(0, 255).astype(np.uint8)
            cv2.imwrite(str(root / "images" / split / f"{i:05d}.jpg"), img)
            cv2.imwrite(str(root / "masks" / split / f"{i:05d}.png"), mask)
    names_yaml = "".join(f"  {i}: {n}\n" for i, n in enumerate(names))
    (root / "data.yaml").write_text(
        f"path: {root}\ntrain: images/train\nval: images/val\nmasks_dir: masks\nnames:\n{names_yaml}"
    )
    return root / "data.yaml"


def train(model_yaml: str, data: str, task: str, args, name: str, recipe: dict | None = None) -> tuple[Path, float]:
    """Train one model (with extra training arguments `recipe`); return its best weights and training images/s."""
    from ultralytics import YOLO

    t = time.time()
    model = YOLO(model_yaml, task=task)
    model.train(data=data, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, seed=0, deterministic=False,
                project=str(args.out), name=name, exist_ok=True, plots=False, verbose=False, workers=0,
                **(recipe or {}))  # fmt: skip
    from ultralytics_semseg.data.build import check_semseg_dataset

    n_train = len(list(Path(check_semseg_dataset(data)["train"]).glob("*.jpg")))
    return Path(args.out) / name / "weights" / "best.pt", n_train * args.epochs / (time.time() - t)


def evaluate(weights: Path, data: str, imgsz: int) -> float:
    """mIoU (%) from our validator at the original label resolution."""
    from ultralytics_semseg.models.val import SemSegValidator

    v = SemSegValidator(args=dict(model=str(weights), data=data, imgsz=imgsz, batch=1, plots=False, verbose=False))
    v(model=str(weights))
    return 100 * v.metrics.semseg.IoU


def latency(models: dict, runs: int, threads: int) -> dict:
    """Median ms at 512x1024 for PyTorch (to a class map at input size) and ONNX Runtime, timed alternately."""
    import onnxruntime as ort
    import torch
    from ultralytics import YOLO

    from ultralytics_semseg.nn.head import upsample_logits

    x = torch.rand(1, 3, 512, 1024)
    fns = {}
    for key, w in models.items():
        yolo = YOLO(str(w))
        onnx_file = yolo.export(format="onnx", imgsz=[512, 1024], verbose=False)
        o = ort.SessionOptions()
        o.intra_op_num_threads, o.inter_op_num_threads = threads, 1
        sess = ort.InferenceSession(onnx_file, o, providers=["CPUExecutionProvider"])
        net = YOLO(str(w)).model.float().eval().fuse(verbose=False)

        def pt(net=net):
            with torch.inference_mode():
                y = net(x)
                y = y[0] if isinstance(y, (list, tuple)) else y
                upsample_logits(y, size=x.shape[2:]).argmax(1).byte()  # the same (channels-last) tail for both

        fns[f"{key} PyTorch"] = pt
        fns[f"{key} ONNX Runtime"] = lambda s=sess: s.run(None, {"images": x.numpy()})
    torch.set_num_threads(threads)
    times = {k: [] for k in fns}
    for fn in fns.values():
        fn(), fn()  # warm-up
    for _ in range(runs):
        for k, fn in fns.items():  # alternate, so noise hits every model alike
            t = time.perf_counter()
            fn()
            times[k].append((time.perf_counter() - t) * 1e3)
    return {k: float(np.median(v)) for k, v in times.items()}


def matmul_peak(threads: int) -> float:
    """Measured float32 GEMM throughput of this machine (GFLOP/s), 2048x2048 matrices."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    n = 10
    for _ in range(n):
        a @ b
    return 2 * 2048**3 * n / (time.perf_counter() - t) / 1e9


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--imgsz", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "vs-ultralytics"))
    p.add_argument("--no-same-recipe", action="store_true", help="skip yolo26n-sem trained with our task's defaults")
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")
    args.out = Path(args.out).resolve()

    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    import ultralytics_semseg  # noqa: F401  (registers the task)
    from ultralytics_semseg.cfg import load_defaults
    from ultralytics_semseg.data.build import check_semseg_dataset

    datasets = {
        "synthetic-streets": str(check_semseg_dataset("synthetic-streets.yaml")["yaml_file"]),
        "blobs": str(make_blobs(args.out / "blobs-data")),
    }
    contenders = {"ours": (OURS, "semseg", None), "yolo26n-sem": (THEIRS, "semantic", None)}
    if not args.no_same_recipe:  # isolates the architecture + loss: their model with our task's training defaults
        contenders[SAME_RECIPE] = (THEIRS, "semantic", load_defaults())
    rows, weights = [], {}
    for dname, data in datasets.items():
        for key, (yaml, task, recipe) in contenders.items():
            w, ips = train(yaml, data, task, args, f"{dname}-{key.split()[0]}{'-recipe' if recipe else ''}", recipe)
            weights.setdefault(key, w)
            rows.append((dname, key, ips, evaluate(w, data, args.imgsz)))

    lat = latency({k: w for k, w in weights.items() if k != SAME_RECIPE}, args.runs, args.threads)
    lat.update({f"{SAME_RECIPE} {r}": lat[f"yolo26n-sem {r}"] for r in ("PyTorch", "ONNX Runtime")})
    peak = matmul_peak(args.threads)
    print(f"\nepochs={args.epochs} imgsz={args.imgsz} batch={args.batch} seed=0, latency at 512x1024, "
          f"{args.threads} threads; float32 GEMM peak {peak:.0f} GFLOP/s")  # fmt: skip
    print("| model | params | GFLOPs 512x1024 | PyTorch ms | ONNX Runtime ms | dataset | train img/s | mIoU |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for dname, key, ips, miou in rows:
        m = YOLO(str(weights[key])).model.float().eval()
        params = sum(x.numel() for x in m.parameters())
        gf = get_flops(m, [512, 1024])
        print(f"| {key} | {params:,} | {gf:.1f} | {lat[f'{key} PyTorch']:.1f} | {lat[f'{key} ONNX Runtime']:.1f} "
              f"| {dname} | {ips:.1f} | {miou:.1f} |")  # fmt: skip
    gf = get_flops(YOLO(str(weights["ours"])).model.float().eval(), [512, 1024])
    ms = lat["ours ONNX Runtime"]
    achieved = gf / ms * 1e3
    share = 100 * achieved / peak
    print(f"\nours: {gf:.1f} GFLOPs in {ms:.1f} ms = {achieved:.0f} GFLOP/s in ONNX Runtime, {share:.0f} % of peak")


if __name__ == "__main__":
    main()
