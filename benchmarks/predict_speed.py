"""`model.predict` on real photos, ours against Ultralytics' `yolo26n-sem`: preprocess, inference, postprocess, total.

Usage:
    python benchmarks/predict_speed.py [--imgsz 320,640,1024] [--runs 9] [--threads 2] [--formats pt]
    python benchmarks/predict_speed.py --table benchmarks/results/predict_speed/<file>.json  # markdown from raw JSON

Contenders, alternated image by image in one process (a loaded machine slows all of them alike):

* ``ours``: the packaged ``yolo11n-semseg.pt`` (14 classes) through ``YOLO(...).predict``;
* ``ours-torch``: the same model with the resizes in PyTorch, as until the OpenCV route (``utils.ops.opencv_resizes``;
  class maps equal but for rare near-ties, see ``postprocess_agreement.py``);
* ``ours-before``: the PyTorch route with ``argmax(1)`` on the channels-last logits instead of ``max(1).indices``, the
  postprocess of before issue 20 (the same class maps), so that before/after come from one run;
* ``yolo26n-sem``: Ultralytics' native task from ``yolo26n-sem.yaml`` (random weights: latency does not depend on
  them; 19 classes as shipped, ``--rival-nc`` to change).

Images: Ultralytics' ``bus.jpg`` (1080x810) and ``zidane.jpg`` (720x1280), plus CamVid frames (360x480 in the
shared copy) from ``../shared/data/camvid/images/val`` when that folder exists (read in place, never copied). Each
call is one image, batch 1, ``rect`` letterbox (Ultralytics' default); ``pre``/``inf``/``post`` are the ms of
Ultralytics' ``speed`` dict and ``total`` the wall time of the whole ``predict`` call. Medians over ``runs`` passes
per image, then the mean over images. Each timed call follows a short sleep (``--pause``): without it the model
timed right after an ONNX Runtime one shared the CPU with ONNX Runtime's spinning threads (``ours-openvino`` in the
raw results of 2026-12-04-2047 against later ones). ``--formats pt,onnx,openvino`` adds exported contenders (exported at
each imgsz, dynamic), run through ``YOLO(...)`` like the PyTorch ones.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CAMVID = ROOT.parent / "shared" / "data" / "camvid" / "images" / "val"
OUT = ROOT / "benchmarks" / "results" / "predict_speed"
KEYS = ("preprocess", "inference", "postprocess", "total")


def photos(n_camvid: int) -> dict[str, np.ndarray]:
    """Name -> BGR image: Ultralytics' two assets and the first `n_camvid` CamVid validation frames if present."""
    import cv2
    from ultralytics.utils import ASSETS

    files = [ASSETS / "bus.jpg", ASSETS / "zidane.jpg"]
    if CAMVID.is_dir():
        files += sorted(CAMVID.glob("*.jpg"))[:n_camvid]
    return {f.name: cv2.imread(str(f)) for f in files}


@contextlib.contextmanager
def postprocess_torch(argmax: bool = False):
    """The class map by PyTorch's resizes (the route before the OpenCV one; `utils.ops.opencv_resizes` answers False)
    and, with `argmax`, by `argmax(1)` as before issue 20 (`utils.ops.argmax_classes` swapped for `class_map`)."""
    import ultralytics_semseg.utils.ops as ops

    saved = ops.opencv_resizes, ops.argmax_classes
    ops.opencv_resizes = lambda logits: False
    if argmax:
        ops.argmax_classes = ops.class_map
    try:
        yield
    finally:
        ops.opencv_resizes, ops.argmax_classes = saved


def rival_model(nc: int, tmp: Path):
    """Ultralytics' `yolo26n-sem` from its YAML with `nc` classes, random weights."""
    from ultralytics import YOLO
    from ultralytics.utils import YAML

    cfg = YAML.load(Path(__import__("ultralytics").__file__).parent / "cfg" / "models" / "26" / "yolo26-sem.yaml")
    cfg["nc"] = nc
    path = tmp / "yolo26n-sem.yaml"
    YAML.save(path, cfg)
    return YOLO(str(path), task="semantic")


def contenders(args, tmp: Path) -> dict:
    """Name -> (YOLO model, context manager factory) for every contender and format."""
    from ultralytics import YOLO

    from ultralytics_semseg.cfg import WEIGHTS_DIR

    weights = tmp / "yolo11n-semseg.pt"  # a copy: exports are written beside the weights, not into the package
    weights.write_bytes((WEIGHTS_DIR / "yolo11n-semseg.pt").read_bytes())
    return {
        "ours": (YOLO(str(weights)), contextlib.nullcontext, {}),
        "ours-torch": (YOLO(str(weights)), postprocess_torch, {}),
        "ours-before": (YOLO(str(weights)), lambda: postprocess_torch(argmax=True), {}),
        "yolo26n-sem": (rival_model(args.rival_nc, tmp), contextlib.nullcontext, {}),
    }


def exported(models: dict, fmt: str, imgsz: int) -> dict:
    """`ours` and `yolo26n-sem` exported to `fmt` (dynamic where the format allows), loaded through `YOLO(...)`.

    For OpenVINO also ``ours-openvino-half``: ours predicting with ``half=True``, which lets the CPU plugin choose
    its precision (bf16 on CPUs that have it) as Ultralytics always does for the rival; plain ``ours-openvino`` runs
    in FP32 (`compat.openvino_fp32`), so only the half row compares like with like.
    """
    from ultralytics import YOLO

    out = {}
    for name in ("ours", "yolo26n-sem"):
        model = models[name][0]
        f = model.export(format=fmt, imgsz=imgsz, dynamic=True, verbose=False)
        out[f"{name}-{fmt}"] = (YOLO(f, task=model.task), contextlib.nullcontext, {})
        if fmt == "openvino" and name == "ours":
            out[f"{name}-{fmt}-half"] = (YOLO(f, task=model.task), contextlib.nullcontext, {"half": True})
    return out


def timed(model, ctx, kwargs: dict, img: np.ndarray, imgsz: int) -> dict:
    with ctx():
        t0 = time.perf_counter()
        r = model.predict(img, imgsz=imgsz, verbose=False, **kwargs)[0]
        total = (time.perf_counter() - t0) * 1e3
    return {**{k: float(r.speed[k]) for k in KEYS[:3]}, "total": total}


def run(args) -> dict:
    import torch
    import ultralytics

    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="predict-speed-"))
    os.chdir(tmp)  # a model built from a YAML exports into the working directory: keep the checkout clean
    images = photos(args.camvid)
    models = contenders(args, tmp)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads "
        f"{args.threads}, load avg at start {os.getloadavg()[0]:.1f}",
        "versions": {"torch": torch.__version__, "ultralytics": ultralytics.__version__},
        "runs": args.runs,
        "pause_s": args.pause,
        "images": {k: list(v.shape[:2]) for k, v in images.items()},
        "rival_nc": args.rival_nc,
        "sizes": {},
    }
    for imgsz in args.imgsz:
        group = dict(models)
        for fmt in args.formats:
            if fmt != "pt":
                group.update(exported(models, fmt, imgsz))
        rows = {n: {i: [] for i in images} for n in group}
        for name, img in images.items():
            for m, ctx, kw in group.values():  # warm-up: predictor set-up, first-call allocations
                for _ in range(2):
                    timed(m, ctx, kw, img, imgsz)
            for _ in range(args.runs):
                for n, (m, ctx, kw) in group.items():  # alternated
                    time.sleep(args.pause)  # let the previous runtime's spinning threads go idle (see --pause)
                    rows[n][name].append(timed(m, ctx, kw, img, imgsz))
        size = {}
        for n, per_image in rows.items():
            med = {i: {k: float(np.median([r[k] for r in rs])) for k in KEYS} for i, rs in per_image.items()}
            size[n] = {"per_image": med, "mean": {k: float(np.mean([m[k] for m in med.values()])) for k in KEYS}}
        result["sizes"][str(imgsz)] = size
        print(table_size(imgsz, size), flush=True)
    result["load_avg_end"] = os.getloadavg()[0]
    return result


def table_size(imgsz: int, size: dict) -> str:
    """Rows of one imgsz: ms per contender and ours / yolo26n-sem ratios."""
    rival = size["yolo26n-sem"]["mean"]
    lines = []
    for n, v in size.items():
        m = v["mean"]
        same_format = [size[f"yolo26n-sem-{t}"] for t in n.split("-")[1:] if f"yolo26n-sem-{t}" in size]
        base = same_format[0]["mean"] if n.startswith("ours-") and same_format else rival
        ratio = f"{m['postprocess'] / base['postprocess']:.2f} | {m['total'] / base['total']:.2f}"
        if n.startswith("yolo26n-sem"):
            ratio = "1 | 1"
        lines.append(f"| {imgsz} | {n} | " + " | ".join(f"{m[k]:.1f}" for k in KEYS) + f" | {ratio} |")
    return "\n".join(lines)


def table(result: dict) -> str:
    """The markdown table of a result JSON."""
    head = [
        "| imgsz | contender | preprocess ms | inference ms | postprocess ms | total ms | post / rival | "
        "total / rival |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    return "\n".join(head + [table_size(int(s), v) for s, v in result["sizes"].items()])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--imgsz", default="320,640,1024")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--camvid", type=int, default=2, help="CamVid frames to add when the folder exists")
    p.add_argument("--rival-nc", type=int, default=19, help="classes of yolo26n-sem (19 as shipped)")
    p.add_argument("--formats", default="pt", help="pt plus any of onnx,openvino (exported contenders)")
    p.add_argument("--pause", type=float, default=0.05,
                   help="s of sleep before each timed call: ONNX Runtime's threads spin after a run and slowed the "
                        "model timed next")  # fmt: skip
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--table", help="print the markdown table of this result JSON and exit")
    args = p.parse_args()
    if args.table:
        print(table(json.loads(Path(args.table).read_text())))
        return
    os.environ.setdefault("YOLO_OFFLINE", "true")
    args.imgsz = [int(x) for x in args.imgsz.split(",")]
    args.formats = args.formats.split(",")
    args.out = Path(args.out).resolve()  # run() works in a temporary folder
    result = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    f = out / f"{time.strftime('%Y-%m-%d-%H%M')}.json"
    f.write_text(json.dumps(result, indent=1))
    print(f"\n{table(result)}\n\nraw: {f}")


if __name__ == "__main__":
    main()
