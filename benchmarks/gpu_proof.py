"""The semseg task on one CUDA GPU at Cityscapes scale, against Ultralytics' `yolo26n-sem`, in one command.

Usage:
    python benchmarks/gpu_proof.py                    # one CUDA GPU: about 6-8 minutes, exports included
    python benchmarks/gpu_proof.py --tiny             # every step at toy sizes on the CPU in under a minute (CI)
    python benchmarks/gpu_proof.py --only train,val   # some steps only (a re-run after a fix)
    python benchmarks/gpu_proof.py --camvid PATH --out DIR

Steps (each records its own figures, or its error, in the JSON; one failing step does not stop the others):

* ``data``: generated Cityscapes-like street scenes at 1024x2048 with Cityscapes' 19 class names and ignore 255 (the
  built-in generator's 8 classes land on their Cityscapes ids, the other 11 have no pixels, as rare classes in a
  small Cityscapes subset), and CamVid (480x360, 11 classes) read in place from ``--camvid``
  (default ``../shared/data/camvid``; benchmark data only, never copied into the repository; skipped where absent).
* ``train``: ``yolo11n-semseg.yaml`` and ``yolo26n-sem.yaml`` trained with the same settings (AMP, batch 8,
  ``nbs`` = batch, imgsz 1024, the same epochs and so the same optimizer steps, as many loader workers as the machine
  has): images/s over the steady-state steps (after the first 10, epoch boundaries left out), peak GPU memory, the
  share of a step spent waiting for the loader, the last loss (finite?) and whether AMP stayed on. Then a few steps
  of each with ``amp=False`` from the same seed: the ratio of the AMP loss to the FP32 loss at the first step and
  over those steps.
* ``val``: our checkpoint validated at 1024x2048 on ``device=0`` (FP32 and FP16) and on ``device=cpu``: the confusion
  matrices compared (mIoU difference, pixels that differ) and images/s of each.
* ``infer``: PyTorch FP16 prediction (``quantize=16``, formerly ``half=True``) at 1024x2048, batch 1, ours and
  ``yolo26n-sem`` alternated, medians of ``runs`` calls (Ultralytics' pre/inference/post split and the end-to-end
  time), and each FP16 class map's agreement with FP32 over the val images.
* ``camvid``: ours from the packaged ``yolo11n-semseg.pt``, ours from scratch and ``yolo26n-sem`` from scratch,
  trained for the same steps at CamVid's full resolution, each scored by our validator on the val split at the
  labels' resolution (mIoU and the thin classes).
* ``compile``: ours predicting with ``compile=True`` (torch.compile), where the budget leaves time for it.
* ``tensorrt``: where ``tensorrt`` imports, both models exported to FP16 engines, agreement with PyTorch FP32 and
  latency; skipped with a message otherwise.

Writes ``<out>/<date>-<gpu>.json`` and ``.md`` (default out: benchmarks/results/gpu) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "true")  # nothing may be downloaded: a GPU machine may have no network

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ultralytics_semseg.constants import IGNORE  # noqa: E402
from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, render_scene  # noqa: E402

STEPS = ("data", "train", "val", "infer", "camvid", "compile", "tensorrt")
CITYSCAPES_NAMES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
                    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle",
                    "bicycle")  # fmt: skip
THIN = ("pole", "sign", "pedestrian", "bicyclist")  # CamVid's thin and small classes
OURS, RIVAL = ("ours", "yolo11n-semseg.yaml", "semseg"), ("yolo26n-sem", "yolo26n-sem.yaml", "semantic")


@dataclass
class Profile:
    """Sizes of one run: `FULL` on a GPU, `TINY` for the CPU smoke run."""

    scene_hw: tuple[int, int] = (1024, 2048)
    n_train: int = 128
    n_val: int = 8
    imgsz: int = 1024
    batch: int = 8
    epochs: int = 8  # 16 steps an epoch: 128 optimizer steps
    fp32_epochs: int = 1  # the amp=False comparison: the first 16 steps
    warmup_steps: int = 10
    camvid_imgsz: int = 480
    camvid_batch: int = 16
    camvid_epochs: int = 10  # 22 steps an epoch: 220 steps
    # frames per split (0 = all): 352 = 22 x 16 train frames give every contender 22 steps an epoch (Ultralytics'
    # loader keeps the rival's last incomplete batch, ours drops it: with all 367 the rival trains 23)
    camvid_limit: int = 352
    runs: int = 200
    compile_min_s: float = 150  # torch.compile only with this much of the budget left


FULL = Profile()
TINY = Profile(scene_hw=(128, 256), n_train=8, n_val=2, imgsz=128, batch=4, epochs=2, warmup_steps=1,
               camvid_imgsz=96, camvid_batch=4, camvid_epochs=1, camvid_limit=8, runs=3, compile_min_s=1e9)  # fmt: skip


def profile_overrides(spec: str) -> dict:
    """'camvid_epochs=30,runs=500' -> {'camvid_epochs': 30, 'runs': 500}, typed as the `Profile` fields."""
    types = {f.name: type(getattr(FULL, f.name)) for f in fields(Profile)}
    out = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key not in types:
            raise SystemExit(f"gpu_proof: --set {key}: not a profile field ({', '.join(types)})")
        out[key] = tuple(map(int, value.split("x"))) if types[key] is tuple else types[key](value)
    return out


def train_args(spec: str) -> dict:
    """'deterministic=False,cache=ram' -> {'deterministic': False, 'cache': 'ram'} (numbers and booleans typed)."""
    import yaml

    return {k: yaml.safe_load(v) for k, _, v in (item.partition("=") for item in filter(None, spec.split(",")))}


def log(msg: str) -> None:
    print(f"[gpu_proof {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------------------------ data


def _scene(args: tuple[int, int, int, int]) -> None:
    """Render generated scene `i` of a split and write it with its mask in Cityscapes' class ids."""
    i, split_id, h, w = args[:4]
    root = Path(args[4])
    img, toy_mask = render_scene(np.random.default_rng([1234, split_id, i]), h, w)
    lut = np.full(256, IGNORE, np.uint8)
    for toy_id, name in STREET_NAMES.items():
        lut[toy_id] = CITYSCAPES_NAMES.index(name)
    split = ("train", "val")[split_id]
    cv2.imwrite(str(root / "images" / split / f"scene_{i:04d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    cv2.imwrite(str(root / "masks" / split / f"scene_{i:04d}.png"), lut[toy_mask])


def make_cityscapes_like(root: Path, p: Profile, workers: int) -> Path:
    """Generated Cityscapes-like dataset (19 names, ignore 255) at `p.scene_hw`; returns its data YAML."""
    yaml_file = root / "data.yaml"
    if yaml_file.exists():
        return yaml_file
    for split in ("train", "val"):
        for kind in ("images", "masks"):
            (root / kind / split).mkdir(parents=True, exist_ok=True)
    jobs = [(i, s, *p.scene_hw, str(root)) for s, n in enumerate((p.n_train, p.n_val)) for i in range(n)]
    if workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(workers) as pool:
            pool.map(_scene, jobs)
    else:
        list(map(_scene, jobs))
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CITYSCAPES_NAMES))
    yaml_file.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return yaml_file


def camvid_yaml(camvid: Path, work: Path, limit: int) -> Path | None:
    """A data YAML over CamVid read in place; None if absent.

    The work folder gets a tree of per-file links to the first `limit` frames of each split (all with 0), so that the
    label caches are written there and never into the CamVid folder, which may be read-only.
    """
    if not (camvid / "images" / "train").is_dir():
        return None
    import yaml

    root = work / "camvid"
    for split in ("train", "val"):
        images = sorted((camvid / "images" / split).glob("*.jpg"))[: limit or None]
        for kind, files in (
            ("images", images),
            ("masks", [camvid / "masks" / split / f"{f.stem}.png" for f in images]),
        ):
            (root / kind / split).mkdir(parents=True, exist_ok=True)
            for f in files:
                link = root / kind / split / f.name
                if not link.is_symlink():
                    link.symlink_to(f.resolve())
    names = yaml.safe_load((camvid / "data.yaml").read_text())["names"]
    out = root / "data.yaml"
    out.write_text(yaml.safe_dump({"path": str(root), "train": "images/train", "val": "images/val", "names": names}))
    return out


# ----------------------------------------------------------------------------------------------------------- train


class StepClock:
    """Callbacks that time each training step: loader wait (end of a step to start of the next) and the step."""

    def __init__(self, cuda: bool):
        self.cuda, self.rows, self.amp, self._end, self._start, self._epoch_first = cuda, [], None, None, None, True

    def attach(self, model) -> None:
        model.add_callback("on_train_start", self.on_train_start)
        model.add_callback("on_train_epoch_start", self.on_epoch_start)
        model.add_callback("on_train_batch_start", self.on_batch_start)
        model.add_callback("on_train_batch_end", self.on_batch_end)

    def _now(self) -> float:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
        return time.perf_counter()

    def on_train_start(self, trainer) -> None:
        self.amp = bool(trainer.amp)  # after Ultralytics' check_amp: whether AMP really trains

    def on_epoch_start(self, trainer) -> None:
        self._epoch_first = True

    def on_batch_start(self, trainer) -> None:
        self._start = self._now()

    def on_batch_end(self, trainer) -> None:
        end = self._now()
        wait = None if self._epoch_first or self._end is None else self._start - self._end
        step = None if self._epoch_first or self._end is None else end - self._end
        self.rows.append({"loss": float(trainer.loss.detach()), "wait": wait, "step": step})
        self._end, self._epoch_first = end, False

    def summary(self, batch: int, warmup: int) -> dict:
        """Images/s and loader-wait share over the steps after `warmup` that do not start an epoch."""
        rows = [r for r in self.rows[warmup:] if r["step"] is not None]
        total, wait = sum(r["step"] for r in rows), sum(r["wait"] for r in rows)
        losses = [r["loss"] for r in self.rows]
        return {
            "steps": len(self.rows),
            "timed_steps": len(rows),
            "images_per_s": batch * len(rows) / total if total else None,
            "step_ms_median": 1000 * float(np.median([r["step"] for r in rows])) if rows else None,
            "loader_wait_share": wait / total if total else None,
            "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None,
            "losses_finite": bool(losses) and all(math.isfinite(x) for x in losses),
            "amp_active": self.amp,
            "losses": losses,
        }


def train(spec: tuple[str, str, str], data: Path, project: Path, name: str, device: str, warmup: int, **kw):
    """Train one contender in this process; its step timings, peak memory and the path of its last.pt.

    `warmup` first steps are left out of the timings (cuDNN autotuning, loader start).
    """
    import torch
    from ultralytics import YOLO

    label, model_file, task = spec
    clock = StepClock(cuda=device != "cpu")
    model = YOLO(model_file, task=task)
    clock.attach(model)
    if clock.cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    model.train(data=str(data), device=device, project=str(project), name=name, exist_ok=True, plots=False,
                val=False, verbose=False, seed=0, **kw)  # fmt: skip
    res = clock.summary(kw["batch"], warmup)
    res.update(contender=label, model=model_file, wall_s=time.perf_counter() - t0, args=kw)
    if clock.cuda:
        res["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2**30
        res["peak_reserved_gib"] = torch.cuda.max_memory_reserved() / 2**30
    return res, project / name / "weights" / "last.pt"


def step_train(ctx: dict) -> dict:
    """Ours and the rival on the Cityscapes-like scenes with AMP, then a few FP32 steps of each."""
    p, out = ctx["profile"], {}
    common = dict(imgsz=p.imgsz, batch=p.batch, nbs=p.batch, workers=ctx["workers"], amp=True, **ctx["train_args"])
    for spec in (OURS, RIVAL):
        res, last = train(spec, ctx["city"], ctx["runs"], f"city-{spec[0]}", ctx["device"], p.warmup_steps,
                          epochs=p.epochs, **common)  # fmt: skip
        clock_rows = res.pop("losses")
        res.update(loss_first_10=clock_rows[:10], loss_last_10=clock_rows[-10:])
        ctx.setdefault("weights", {})[spec[0]] = last
        fp32, _ = train(spec, ctx["city"], ctx["runs"], f"city-{spec[0]}-fp32", ctx["device"], p.warmup_steps,
                        epochs=p.fp32_epochs, **{**common, "amp": False})  # fmt: skip
        k = len(fp32["losses"])
        amp_losses, fp32_losses = clock_rows[:k], fp32.pop("losses")
        # The first step has the same weights and batch in both runs: its ratio is AMP's numerical error. Later steps
        # differ by more than that: GradScaler skips the steps whose FP16 gradients overflow while it finds its scale
        res["amp_vs_fp32"] = {
            "steps": k,
            "first_step_ratio": amp_losses[0] / fp32_losses[0],
            "mean_ratio": float(np.mean(amp_losses) / np.mean(fp32_losses)),
            "amp_losses": amp_losses,
            "fp32_losses": fp32_losses,
            "fp32_images_per_s": fp32["images_per_s"],
            "fp32_amp_active": fp32["amp_active"],
        }
        out[spec[0]] = res
        ctx["partial"]("train", out)
        log(f"train {spec[0]}: {json.dumps({k: v for k, v in res.items() if k != 'args'}, default=str)}")
    return out


# ------------------------------------------------------------------------------------------------------------- val


def validate(weights: Path, data: Path | str, imgsz: int, device: str, batch: int = 1, half: bool = False,
             workers: int = 0) -> dict:  # fmt: skip
    """Our validator on `weights`: mIoU, per-class IoU, the confusion matrix and images/s."""
    from ultralytics_semseg.models.val import SemSegValidator

    v = SemSegValidator(args=dict(model=str(weights), data=str(data), imgsz=imgsz, batch=batch, device=device,
                                  plots=False, verbose=False, workers=workers, **precision(half)))  # fmt: skip
    t0 = time.perf_counter()
    v(model=str(weights))
    wall = time.perf_counter() - t0
    s = v.metrics.semseg
    iou = {v.metrics.names[i]: (None if np.isnan(x) else float(x)) for i, x in enumerate(s.per_class["IoU"])}
    return {"mIoU": float(s.IoU), "per_class_IoU": iou, "matrix": s.matrix.astype(np.int64).tolist(),
            "images": v.seen, "images_per_s": v.seen / wall, "speed_ms": dict(v.speed)}  # fmt: skip


def step_val(ctx: dict) -> dict:
    """The same checkpoint validated on the GPU and on the CPU at full resolution: the same confusion matrix?"""
    p, weights = ctx["profile"], ctx["weights"]["ours"]
    imgsz = max(p.scene_hw)
    runs = {}
    for name, device, half in (("gpu", ctx["device"], False), ("gpu_fp16", ctx["device"], True), ("cpu", "cpu", False)):
        if name == "gpu_fp16" and ctx["device"] == "cpu":
            continue
        runs[name] = validate(weights, ctx["city"], imgsz, device, batch=min(4, p.n_val), half=half,
                              workers=ctx["workers"])  # fmt: skip
    cpu = np.array(runs["cpu"]["matrix"])
    out = {"imgsz": imgsz, "images": runs["cpu"]["images"]}
    for name, r in runs.items():
        m = np.array(r.pop("matrix"))
        out[name] = {**r, "pixels_differing_from_cpu": int(np.abs(m - cpu).sum() // 2),
                     "mIoU_minus_cpu": r["mIoU"] - runs["cpu"]["mIoU"]}  # fmt: skip
    out["pixels"] = int(cpu.sum())
    return out


# ---------------------------------------------------------------------------------------------------------- camvid


def step_camvid(ctx: dict) -> dict:
    """Packaged start, scratch and the rival trained for the same steps on CamVid, scored by our validator."""
    p, data = ctx["profile"], ctx["camvid"]
    if data is None:
        return {"skipped": f"no CamVid at {ctx['camvid_dir']} (pass --camvid)"}
    common = dict(imgsz=p.camvid_imgsz, batch=p.camvid_batch, nbs=p.camvid_batch, workers=ctx["workers"], amp=True,
                  **ctx["train_args"])  # fmt: skip
    out = {}
    from ultralytics_semseg.cfg import WEIGHTS_DIR

    packaged = str(WEIGHTS_DIR / "yolo11n-semseg.pt")  # the packaged start, read in place (no copy in the cwd)
    for spec in (("ours-packaged", packaged, "semseg"), OURS, RIVAL):
        res, last = train(spec, data, ctx["runs"], f"camvid-{spec[0]}", ctx["device"], p.warmup_steps,
                          epochs=p.camvid_epochs, **common)  # fmt: skip
        res.pop("losses")
        score = validate(last, data, p.camvid_imgsz, ctx["device"], batch=8, workers=ctx["workers"])
        score.pop("matrix")
        res.update(mIoU=score["mIoU"], per_class_IoU=score["per_class_IoU"],
                   thin_mean_IoU=float(np.nanmean([score["per_class_IoU"].get(c) or 0.0 for c in THIN])))  # fmt: skip
        out[spec[0]] = res
        ctx["partial"]("camvid", out)
        log(f"camvid {spec[0]}: mIoU {res['mIoU']:.4f} thin {res['thin_mean_IoU']:.4f} in {res['wall_s']:.0f} s")
    return out


# ----------------------------------------------------------------------------------------------------------- infer


def class_map(result) -> np.ndarray:
    """The (H, W) class map of an Ultralytics result of either task, as a NumPy array."""
    m = getattr(result, "semseg", None) or getattr(result, "semantic_mask", None)
    data = m.data
    return data.cpu().numpy() if hasattr(data, "cpu") else np.asarray(data)


def timed_predict(model, img: np.ndarray, cuda: bool, **kw) -> tuple[dict, np.ndarray]:
    """One prediction: Ultralytics' speed split, the end-to-end ms (synchronised) and the class map."""
    import torch

    t0 = time.perf_counter()
    r = model.predict(img, verbose=False, **kw)[0]
    if cuda:
        torch.cuda.synchronize()
    return {**r.speed, "total": 1000 * (time.perf_counter() - t0)}, class_map(r)


def precision(fp16: bool) -> dict:
    """Prediction/validation arguments for FP16 or FP32: `quantize` on recent 8.4 releases, `half` before."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    if "quantize" in DEFAULT_CFG_DICT:
        return {"quantize": 16 if fp16 else None}
    return {"half": fp16}


def agreement(a, b, images: list[np.ndarray], cuda: bool, a_kw: dict, b_kw: dict) -> float:
    """Share of pixels whose class from model `a` (predicted with `a_kw`) equals model `b`'s (`b_kw`), over `images`."""
    same = total = 0
    for img in images:
        a_map, b_map = timed_predict(a, img, cuda, **a_kw)[1], timed_predict(b, img, cuda, **b_kw)[1]
        same, total = same + int((a_map == b_map).sum()), total + a_map.size
    return same / total


def step_infer(ctx: dict) -> dict:
    """FP16 PyTorch prediction at full resolution, ours and the rival alternated; FP16-FP32 agreement."""
    from ultralytics import YOLO

    p, cuda = ctx["profile"], ctx["device"] != "cpu"
    imgsz = max(p.scene_hw)
    images = val_images(ctx)
    kw = dict(imgsz=imgsz, device=ctx["device"])
    models = {n: YOLO(str(w)) for n, w in ctx["weights"].items()}
    fp32 = {n: YOLO(str(w)) for n, w in ctx["weights"].items()}
    half = cuda  # FP16 needs the GPU; the CPU run times FP32
    kw16, kw32 = {**kw, **precision(half)}, {**kw, **precision(False)}
    for m in models.values():
        for _ in range(3):  # warm-up: predictor set-up, cuDNN autotuning
            timed_predict(m, images[0], cuda, **kw16)
    times = {n: [] for n in models}
    for _ in range(p.runs):  # alternated, so drifting clocks or load hit both
        for n, m in models.items():
            times[n].append(timed_predict(m, images[0], cuda, **kw16)[0])
    out = {"imgsz": imgsz, "image_hw": list(images[0].shape[:2]), "runs": p.runs, "half": half}
    for n, rows in times.items():
        out[n] = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
        out[n]["fp16_fp32_agreement"] = agreement(models[n], fp32[n], images, cuda, kw16, kw32)
    out["latency_ratio_ours_vs_rival"] = {k: out["ours"][k] / out["yolo26n-sem"][k] for k in out["ours"] if k in
                                          ("inference", "total")}  # fmt: skip
    return out


def val_images(ctx: dict) -> list[np.ndarray]:
    """The generated val scenes at full resolution, as BGR arrays."""
    return [cv2.imread(str(f)) for f in sorted((ctx["city"].parent / "images" / "val").glob("*.jpg"))]


def step_compile(ctx: dict) -> dict:
    """Ours with `compile=True` (torch.compile), FP16, where the budget leaves time for the compilation."""
    from ultralytics import YOLO

    p, cuda = ctx["profile"], ctx["device"] != "cpu"
    left = ctx["deadline"] - time.time()
    if left < p.compile_min_s:
        return {"skipped": f"{left:.0f} s of the budget left, {p.compile_min_s:.0f} s needed"}
    images, w = val_images(ctx), str(ctx["weights"]["ours"])
    kw = dict(imgsz=max(p.scene_hw), device=ctx["device"])
    kw16, kw32 = {**kw, **precision(cuda), "compile": True}, {**kw, **precision(False)}
    t0 = time.perf_counter()
    comp = YOLO(w)
    for _ in range(3):
        timed_predict(comp, images[0], cuda, **kw16)
    warm = time.perf_counter() - t0
    rows = [timed_predict(comp, images[0], cuda, **kw16)[0] for _ in range(p.runs // 2)]
    out = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
    out.update(compile_and_warmup_s=warm, fp16_fp32_agreement=agreement(comp, YOLO(w), images, cuda, kw16, kw32))
    return out


def step_tensorrt(ctx: dict) -> dict:
    """FP16 TensorRT engines of both models: agreement with PyTorch FP32 and latency (where TensorRT imports)."""
    try:
        import tensorrt
    except ImportError:
        return {"skipped": "tensorrt does not import on this machine"}
    from ultralytics import YOLO

    p, cuda = ctx["profile"], ctx["device"] != "cpu"
    imgsz = max(p.scene_hw)
    images = val_images(ctx)
    out = {"tensorrt": tensorrt.__version__}
    for n, w in ctx["weights"].items():
        t0 = time.perf_counter()
        engine = YOLO(str(w)).export(format="engine", imgsz=list(p.scene_hw), device=ctx["device"], **precision(True))
        trt, ref = YOLO(engine, task=YOLO(str(w)).task), YOLO(str(w))
        kw = dict(imgsz=imgsz, device=ctx["device"])
        for _ in range(3):
            timed_predict(trt, images[0], cuda, **kw)
        rows = [timed_predict(trt, images[0], cuda, **kw)[0] for _ in range(p.runs)]
        out[n] = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
        agree = agreement(trt, ref, images, cuda, kw, {**kw, **precision(False)})
        out[n].update(export_s=time.perf_counter() - t0, fp16_fp32_agreement=agree)
    return out


# ------------------------------------------------------------------------------------------------------------- run


def environment(device: str) -> dict:
    """Machine, GPU, driver and library versions."""
    import torch
    import torchvision
    import ultralytics

    import ultralytics_semseg

    env = {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
           "ultralytics": ultralytics.__version__, "ultralytics_semseg": ultralytics_semseg.__version__,
           "cpus": os.cpu_count(), "device": device}  # fmt: skip
    if device != "cpu":
        env.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
        smi = shutil.which("nvidia-smi")
        if smi:
            q = subprocess.run([smi, "--query-gpu=driver_version,memory.total", "--format=csv,noheader"],
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
            env["driver"], env["gpu_memory"] = (q.split(", ") + ["", ""])[:2]
    try:
        import tensorrt

        env["tensorrt"] = tensorrt.__version__
    except ImportError:
        env["tensorrt"] = None
    return env


def fmt(x, spec: str = ".3g") -> str:
    return "–" if x is None else format(x, spec)


def table(res: dict) -> str:
    """The markdown summary of a result JSON."""
    env, s = res["environment"], res["steps"]
    lines = [f"GPU proof on {env.get('gpu', 'CPU')} (driver {env.get('driver', '–')}, CUDA {env.get('cuda', '–')}, "
             f"torch {env['torch']}, Ultralytics {env['ultralytics']}, TensorRT {env.get('tensorrt') or '–'}), "
             f"{res['profile_name']} profile, {res['wall_s']:.0f} s", ""]  # fmt: skip
    tr = s.get("train", {})
    if "ours" in tr:
        lines += ["| training (Cityscapes-like, imgsz 1024, AMP) | ours | yolo26n-sem |", "| --- | --- | --- |"]
        rows = [("images/s", "images_per_s", ".1f"), ("step ms (median)", "step_ms_median", ".1f"),
                ("peak GPU memory GiB", "peak_mem_gib", ".2f"), ("loader wait share", "loader_wait_share", ".1%"),
                ("last loss", "last_loss", ".4g"), ("losses finite", "losses_finite", ""),
                ("AMP active", "amp_active", "")]  # fmt: skip
        ours, rival = tr["ours"], tr.get("yolo26n-sem", {})
        for title, key, f in rows:
            lines.append(f"| {title} | {fmt(ours.get(key), f)} | {fmt(rival.get(key), f)} |")
        for key, title in (("first_step_ratio", "first step"), ("mean_ratio", "mean of the first steps")):
            vals = [fmt(r["amp_vs_fp32"][key], ".4f") if "amp_vs_fp32" in r else "–" for r in (ours, rival)]
            lines.append(f"| AMP / FP32 loss, {title} | {vals[0]} | {vals[1]} |")
        lines.append("")
    va = s.get("val", {})
    if "cpu" in va:
        head = "| validation at full resolution | mIoU | − CPU mIoU | pixels ≠ CPU | images/s |"
        lines += [head, "| --- | --- | --- | --- | --- |"]
        for n in ("gpu", "gpu_fp16", "cpu"):
            if n in va:
                r = va[n]
                lines.append(f"| {n} | {r['mIoU']:.4f} | {r['mIoU_minus_cpu']:.1e} | {r['pixels_differing_from_cpu']} "
                             f"of {va['pixels']} | {r['images_per_s']:.2f} |")  # fmt: skip
        lines.append("")
    cv = s.get("camvid", {})
    if cv and "skipped" not in cv and "error" not in cv:
        lines += ["| CamVid val (same steps) | mIoU | " + " | ".join(THIN) + " | train s |", "|---" * 7 + "|"]
        for n, r in cv.items():
            if not isinstance(r, dict):
                continue
            thin = " | ".join(fmt(r["per_class_IoU"].get(c), ".3f") for c in THIN)
            lines.append(f"| {n} | {r['mIoU']:.4f} | {thin} | {r['wall_s']:.0f} |")
        lines.append("")
    inf = s.get("infer", {})
    if "ours" in inf:
        lines += [f"| prediction {inf['image_hw'][0]}x{inf['image_hw'][1]}, batch 1, half={inf['half']}, median of "
                  f"{inf['runs']} (ms) | pre | inference | post | end to end | FP16 = FP32 pixels |",
                  "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for n, r in (("ours", inf["ours"]), ("yolo26n-sem", inf["yolo26n-sem"]), ("ours compiled", s.get("compile"))):
            r = r or {}
            if "total" in r:
                lines.append(f"| {n} | {r['preprocess']:.2f} | {r['inference']:.2f} | {r['postprocess']:.2f} | "
                             f"{r['total']:.2f} | {fmt(r.get('fp16_fp32_agreement'), '.4%')} |")  # fmt: skip
        lines.append("")
    for name, r in s.items():
        if isinstance(r, dict) and ("skipped" in r or "error" in r):
            lines.append(f"- {name}: {r.get('skipped') or r.get('error')}")
        elif isinstance(r, dict):
            for sub, v in r.items():
                if isinstance(v, dict) and ("skipped" in v or "error" in v):
                    lines.append(f"- {name}/{sub}: {v.get('skipped') or v.get('error')}")
    return "\n".join(lines) + "\n"


def safe_table(res: dict) -> str:
    """`table`, or what went wrong in it: a bug in the summary must not lose the JSON's figures."""
    try:
        return table(res)
    except Exception as e:
        return f"(no table: {type(e).__name__}: {e}; the JSON has every figure)\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="toy sizes on the CPU in under a minute (CI smoke run)")
    ap.add_argument("--device", default=None, help="default: 0 with CUDA, cpu with --tiny")
    ap.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps of {STEPS}")
    ap.add_argument("--camvid", type=Path, default=REPO.parent / "shared" / "data" / "camvid")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "gpu")
    ap.add_argument("--work", type=Path, default=None, help="data and runs (default: a temporary folder)")
    ap.add_argument("--budget", type=float, default=480, help="seconds; optional parts are skipped past it")
    ap.add_argument("--set", default="", help="profile overrides, e.g. camvid_epochs=30,runs=500")
    ap.add_argument("--train-args", default="", help="extra training arguments of every contender, e.g. "
                    "deterministic=False")  # fmt: skip
    a = ap.parse_args(argv)
    import torch

    device = a.device or ("cpu" if a.tiny else "0")
    if device != "cpu" and not torch.cuda.is_available():
        raise SystemExit("gpu_proof: no CUDA GPU here; run it on one, or use --tiny for the CPU smoke run")
    p = replace(TINY if a.tiny else FULL, **profile_overrides(a.set))
    work = a.work or Path(tempfile.mkdtemp(prefix="gpu_proof_"))
    os.environ.setdefault("YOLO_CONFIG_DIR", str(work / "config"))
    t0 = time.time()
    ctx = {"profile": p, "device": device, "runs": work / "runs", "camvid_dir": a.camvid, "deadline": t0 + a.budget,
           "workers": 0 if device == "cpu" else min(12, os.cpu_count() or 1),
           "train_args": train_args(a.train_args)}  # fmt: skip
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    res = {"environment": environment(device), "profile_name": "tiny" if a.tiny else "full", "profile": asdict(p),
           "started": started, "train_args": ctx["train_args"], "steps": {}}  # fmt: skip
    only = a.only.split(",")
    gpu = res["environment"].get("gpu", "cpu").replace("NVIDIA ", "").replace(" ", "-").lower()
    stem = f"{time.strftime('%Y-%m-%d')}-{gpu}" + ("-tiny" if a.tiny else "")
    a.out.mkdir(parents=True, exist_ok=True)

    def partial(step: str, out: dict) -> None:  # a step's finished parts survive a kill in its later parts
        res["steps"][step] = {**out, "partial": True}
        save()

    ctx["partial"] = partial

    def save() -> None:
        res["wall_s"] = time.time() - t0
        (a.out / f"{stem}.json").write_text(json.dumps(res, indent=1, default=str))
        (a.out / f"{stem}.md").write_text(safe_table(res))

    ctx["city"] = make_cityscapes_like(work / "cityscapes-like", p, workers=1 if device == "cpu" else 16)
    ctx["camvid"] = camvid_yaml(a.camvid, work, p.camvid_limit)
    res["steps"]["data"] = {"cityscapes_like": str(ctx["city"]), "camvid": str(ctx["camvid"]),
                            "data_s": time.time() - t0}  # fmt: skip
    import ultralytics_semseg  # noqa: F401  (registers the task)

    needs = {"val": "train", "infer": "train", "compile": "train", "tensorrt": "train"}
    steps = {"train": step_train, "val": step_val, "infer": step_infer, "camvid": step_camvid,
             "compile": step_compile, "tensorrt": step_tensorrt}  # fmt: skip
    for name, fn in steps.items():
        if name not in only:
            continue
        if name in needs and "weights" not in ctx:
            res["steps"][name] = {"skipped": f"needs the '{needs[name]}' step's checkpoints"}
            continue
        log(f"step {name} ...")
        t = time.time()
        try:
            res["steps"][name] = fn(ctx)
        except Exception as e:  # record and go on: one broken step must not hide the others' results
            traceback.print_exc()
            res["steps"][name] = {"error": f"{type(e).__name__}: {e}"}
        res["steps"][name]["step_s"] = time.time() - t
        save()
    save()
    print(safe_table(res), flush=True)
    if a.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return res


if __name__ == "__main__":
    main()
