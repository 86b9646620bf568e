"""Multi-dataset, multi-seed benchmark of our task against Ultralytics' native `yolo26n-sem`: resumable, one command.

Usage:
    python benchmarks/transfer.py [run] [--datasets nuclei,roads,...] [--contenders ours,yolo26n-sem,...]
                                  [--seeds 0,1,2] [--results benchmarks/results/round2] [--frozen]
    python benchmarks/transfer.py latency [--contenders ...] [--runs 30]  # quiet machine: ORT at 512x1024
    python benchmarks/transfer.py table [--results ...]                 # mean +- std tables -> docs/benchmarks.md/.png

`run` trains every (seed, dataset, contender) cell that has no result yet, each in its own subprocess, and writes
one JSON per run to the results folder (commit it): an interrupted round resumes where it stopped. The datasets come
from `benchmarks/datasets.py` (built on first use, see there for sources, licences and hashes); the budget (epochs,
imgsz) is per dataset, batch 8 for everyone.

Contenders (add your own with `--contenders name=base:key=value,...`, e.g. `ours-ce=ours:cls_pw=0`; the key
`variant` names a decoder or loss variant of `benchmarks/ablate.py`, e.g. `ours-dice=ours:variant=dice`):

* ``ours``: ``yolo11n-semseg.yaml``, the `semseg` task's defaults as shipped, `nbs` = batch;
* ``yolo26n-sem``: Ultralytics' ``yolo26n-sem.yaml`` with its `semantic` task defaults but `nbs` = batch, i.e. the
  same number of optimizer steps as ours;
* ``ours-yolo26``: ``yolo26n-semseg.yaml`` (our head on the YOLO26 backbone), the same recipe as ``ours``;
* ``yolo26n-sem-shipped``: ``yolo26n-sem.yaml`` exactly as shipped (`nbs=64`: with batch 8 it steps the optimizer
  every 8th batch);
* ``ours-packaged``: ``ours`` fine-tuned from the packaged ``yolo11n-semseg.pt`` (trained on generated data only);
* ``ours-s2``: ``ours`` with a second detail branch at stride 2 (`ablate.DetailS2`, `benchmarks/models/`), a
  thin-class variant;
* ``smp-fpn-mnv2``, ``smp-segformer-b0``, ``smp-dlv3p-mnv2``: segmentation_models_pytorch's FPN + MobileNetV2,
  Segformer + MiT-B0 and DeepLabV3+ + MobileNetV2 from scratch, run by our trainer with our data pipeline, crops,
  loss and `nbs` = batch and their usual optimizer recipe (`smp_rivals.RECIPE`: AdamW, lr 1e-3, weight decay 0.01,
  cosine), scored and exported by our code like ``ours`` (`pip install -e ".[bench]"`).

Every run is scored on ``last.pt`` by *our* validator at the labels' own resolution (mIoU and per-class IoU); the
rival's runs are also scored by Ultralytics' own `semantic` validator as a sanity check (it scores at the letterboxed
resolution and averages only over classes with ground truth, so small differences are expected). Each run records
its wall-clock training time, the 1-minute load average before and after (this machine is shared: a loaded run's time
is not comparable), parameters and GFLOPs at 512x1024.

`latency` exports each contender (default: ours and ``yolo26n-sem``; `--contenders` adds others, the baseline last)
per dataset to ONNX (each model's default export, uint8 class map) and times them alternately in ONNX Runtime (2
threads, batch 1, 512x1024 crop of a real satellite image, median of `--runs`). It uses the seed-0 ``last.pt`` where
this machine has it, else the contender's architecture with the dataset's class count and random weights (the
speed does not depend on the weights' values), and says which; it records the load average and marks the
measurement `under_load` when the machine was busy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from datasets import DATASETS, DEFAULT, ROOT, available, build, info  # noqa: E402
from smp_rivals import ARCHS, RECIPE  # noqa: E402

RESULTS = HERE / "results" / "round2"
OURS_YAML = "yolo11n-semseg.yaml"
RUNS = HERE / ".runs"
BATCH = 8
# name -> (model yaml, task, extra training arguments); "nbs": None means nbs = batch
CONTENDERS: dict[str, tuple[str, str, dict]] = {
    "ours": ("yolo11n-semseg.yaml", "semseg", {"nbs": None}),
    "ours-yolo26": ("yolo26n-semseg.yaml", "semseg", {"nbs": None}),
    "yolo26n-sem": ("yolo26n-sem.yaml", "semantic", {"nbs": None}),
    "yolo26n-sem-shipped": ("yolo26n-sem.yaml", "semantic", {}),
    "ours-packaged": ("yolo11n-semseg.pt", "semseg", {"nbs": None}),
    # ours with a second detail branch at stride 2 (benchmarks/ablate.py DetailS2), a thin-class variant of round 4
    "ours-s2": (str(HERE / "models" / "yolo11n-semseg-p1.yaml"), "semseg", {"nbs": None, "variant": "detail-s2"}),
    # segmentation_models_pytorch rivals (benchmarks/smp_rivals.py): our trainer runs them with their usual recipe
    **{name: (f"smp:{name}", "semseg", {"nbs": None, **RECIPE}) for name in ARCHS},
}
# contenders of an earlier default head (or export tail): `latency` rebuilds it from benchmarks/ablate.py
EARLIER_HEADS = {"ours-concat4": "concat4", "ours-ctx8": "context-mix", "ours-ce": "concat4", "ours-pw1": "concat4",
                 "ours-nhwc-tail": "nhwc-tail"}  # fmt: skip
ROUND = ("ours", "yolo26n-sem", "yolo26n-sem-shipped")  # what `run` trains unless --contenders says otherwise
LATENCY_PAIR = ("ours", "yolo26n-sem")


def parse_value(v: str):
    """'0' -> 0.0, 'True' -> True, anything else stays a string."""
    if v in ("True", "False"):
        return v == "True"
    try:
        return float(v) if "." in v or "e" in v else int(v)
    except ValueError:
        return v


def contender(spec: str) -> tuple[str, tuple[str, str, dict]]:
    """'ours' or 'name=base:key=value,...' -> (name, (model, task, args))."""
    if "=" not in spec.split(":")[0]:
        return spec, CONTENDERS[spec]
    name, rest = spec.split("=", 1)
    base, _, extra = rest.partition(":")
    model, task, args = CONTENDERS[base]
    args = {**args, **{k: parse_value(v) for k, v in (x.split("=", 1) for x in filter(None, extra.split(",")))}}
    return name, (model, task, args)


def split_contenders(text: str) -> list[str]:
    """'ours,a=ours:k=1,j=2,yolo26n-sem' -> ['ours', 'a=ours:k=1,j=2', 'yolo26n-sem']: a piece that is neither a
    contender name nor 'name=base:...' is one more key of the spec before it."""
    specs: list[str] = []
    for piece in filter(None, text.split(",")):
        if specs and piece not in CONTENDERS and ":" not in piece:
            specs[-1] += f",{piece}"
        else:
            specs.append(piece)
    return specs


def run_name(dataset: str, name: str, seed: int, results: Path | None = None) -> str:
    """Run folder/JSON stem; runs of a results folder other than the default round get its name as a prefix."""
    prefix = "" if results is None or Path(results).name == RESULTS.name else f"{Path(results).name}__"
    return f"{prefix}{dataset}__{name}__s{seed}"


# ------------------------------------------------------------------------------------------------------ one run


def evaluate(weights: Path, data: str, imgsz: int) -> tuple[float, dict[str, float]]:
    """mIoU and per-class IoU (fractions) from our validator at the labels' own resolution."""
    from ultralytics_semseg.models.val import SemSegValidator

    v = SemSegValidator(args=dict(model=str(weights), data=data, imgsz=imgsz, batch=1, plots=False, verbose=False))
    v(model=str(weights))
    s = v.metrics.semseg
    iou = s.per_class["IoU"]
    return float(s.IoU), {v.metrics.names[i]: (None if np.isnan(x) else float(x)) for i, x in enumerate(iou)}


def ultralytics_miou(weights: Path, data: str, imgsz: int, project: Path) -> float:
    """Ultralytics' own `semantic` validator's mIoU (sanity check of our scoring of the rival)."""
    from ultralytics import YOLO

    m = YOLO(str(weights)).val(data=data, imgsz=imgsz, batch=BATCH, plots=False, verbose=False, workers=0,
                               project=str(project), name="ultra-val", exist_ok=True)  # fmt: skip
    return float(m.results_dict["metrics/mIoU"])


def code_hash() -> str:
    """sha256 over the package's source files: which code a run trained and scored with (rounds must not mix)."""
    import hashlib

    h = hashlib.sha256()
    pkg = HERE.parent / "ultralytics_semseg"
    for f in sorted(p for p in pkg.rglob("*") if p.suffix in {".py", ".yaml"}):
        h.update(f.relative_to(pkg).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def run_one(args) -> None:
    """Child process: train one contender on one dataset with one seed, score last.pt, write the result JSON."""
    import contextlib

    import torch
    from smp_rivals import training
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    import ultralytics_semseg  # noqa: F401  (registers the task)

    name, (model_yaml, task, extra) = contender(args.contender)
    spec = DATASETS[args.dataset]
    data = str(build(args.dataset))
    run = run_name(args.dataset, name, args.seed, Path(args.json).parent)
    epochs = args.epochs or round(args.epochs_scale * spec["epochs"])
    train_args = dict(data=data, epochs=epochs, imgsz=spec["imgsz"], batch=BATCH, seed=args.seed,
                      deterministic=False, project=str(RUNS), name=run, exist_ok=True, plots=False, verbose=False,
                      workers=0, val=False)  # fmt: skip
    # a decoder or loss variant of benchmarks/ablate.py, e.g. ours-dice=ours:variant=dice
    variant = extra.get("variant")
    if variant:
        from ablate import apply_variant

        train_args.update(apply_variant(variant))
    train_args.update({k: (BATCH if (k == "nbs" and v is None) else v) for k, v in extra.items() if k != "variant"})
    load0 = os.getloadavg()[0]
    t0, c0 = time.time(), time.process_time()
    smp_name = model_yaml.removeprefix("smp:") if model_yaml.startswith("smp:") else None
    model, threads = YOLO(OURS_YAML if smp_name else model_yaml, task=task), []
    model.add_callback("on_train_epoch_start", lambda trainer: threads.append(torch.get_num_threads()))
    with training(smp_name) if smp_name else contextlib.nullcontext():
        model.train(**train_args)
    train_s, cpu_s = time.time() - t0, time.process_time() - c0
    load1 = os.getloadavg()[0]
    weights = RUNS / train_args["name"] / "weights" / "last.pt"
    miou, per_class = evaluate(weights, data, spec["imgsz"])
    res = dict(dataset=args.dataset, contender=name, seed=args.seed, model=model_yaml, task=task,
               train_args={k: v for k, v in train_args.items() if k not in ("project", "name", "data")},
               mIoU=miou, per_class_IoU=per_class, train_s=train_s, train_cpu_s=cpu_s, load_before=load0,
               load_after=load1, images=info(args.dataset)["images"])  # fmt: skip
    if task == "semantic":
        res["ultralytics_mIoU"] = ultralytics_miou(weights, data, spec["imgsz"], RUNS / train_args["name"])
    net = YOLO(str(weights)).model.float().eval()
    res["params"] = sum(p.numel() for p in net.parameters())
    res["gflops_512x1024"] = float(get_flops(net, [512, 1024]))
    import ultralytics

    res["versions"] = dict(
        torch=torch.__version__, ultralytics=ultralytics.__version__, python=platform.python_version()
    )
    res["code_sha256"] = code_hash()
    res["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "")
    res["torch_threads"] = max(threads)  # during training: Ultralytics' trainer uses cpu_count - 1, ours every core
    res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1))
    tmp.replace(out)  # atomic: a killed run leaves no half result


def child_env() -> dict:
    """Environment of a run: offline, private settings, 2 OpenMP threads that sleep rather than spin when they wait
    (on a busy machine spinning threads of a 2-thread trainer burnt ~10x the CPU time of a 1-thread one)."""
    env = dict(os.environ, YOLO_OFFLINE="true", OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE",
               YOLO_CONFIG_DIR=str(RUNS / ".config"))  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH", "")]))
    return env


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def jobs(args) -> list[tuple[int, str, str]]:
    """(seed, dataset, contender spec) in run order: the equal-step pair (ours, yolo26n-sem), seed by seed, before
    the as-shipped and variant runs, so a partial round answers the main question with as many seeds as it has."""
    specs = split_contenders(args.contenders)
    datasets = args.datasets.split(",")
    todo = [(s, d, c) for s in map(int, args.seeds.split(",")) for d in datasets for c in specs]
    pair = {c for c in specs if contender(c)[0] in LATENCY_PAIR}
    return sorted(todo, key=lambda j: (j[2] not in pair, j[0], datasets.index(j[1]), specs.index(j[2])))


def freeze_and_exec(args) -> None:
    """Re-run this command from a copy of the committed code (``git archive HEAD`` under the runs folder, with the
    package source taken from commit `--package-at` when given), so that a rebase or a merge in this checkout during
    a long round cannot change the code its later runs use."""
    git = ["git", "-C", str(HERE.parent)]

    def rev(ref: str) -> str:
        out = subprocess.run([*git, "rev-parse", "--short", ref], capture_output=True, text=True).stdout.strip()
        if not out:
            raise SystemExit(f"--frozen: '{ref}' is not a commit of this git checkout")
        return out

    sha, pkg = rev("HEAD"), rev(args.package_at)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "ultralytics_semseg", "benchmarks/*.py"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    if dirty:
        print(f"warning: uncommitted changes are not in the frozen copy of {sha}:\n{dirty}", flush=True)
    dest = RUNS / "code" / (sha if pkg == sha else f"{sha}-package-{pkg}")
    if not dest.exists():
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for ref, paths in ((sha, []), (pkg, ["ultralytics_semseg"])):
            if paths:
                shutil.rmtree(tmp / paths[0])
            archive = subprocess.run([*git, "archive", ref, *paths], capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        tmp.rename(dest)
    for link in (".data", ".runs"):  # share the datasets and the runs folder with this checkout
        if not (dest / "benchmarks" / link).exists():
            (dest / "benchmarks" / link).symlink_to(HERE / link)
    argv = [a for a in sys.argv[1:] if a != "--frozen"] + ["--results", str(Path(args.results).resolve())]
    print(f"running from the frozen copy {dest}", flush=True)
    os.execv(sys.executable, [sys.executable, str(dest / "benchmarks" / "transfer.py"), *argv])


def run_round(args) -> None:
    """Train every (seed, dataset, contender) cell that has no result yet, each in its own subprocess.

    A lock file per run (in the runs folder, holding the pid of the process training it) lets two rounds, or a
    restarted one, share the queue without training the same run twice.
    """
    results = Path(args.results)
    (RUNS / ".config").mkdir(parents=True, exist_ok=True)
    usable = []
    for d in args.datasets.split(","):
        if why := available(d):
            print(f"skipping dataset '{d}': {why}", flush=True)
            continue
        build(d)
        usable.append(d)
    if not usable:
        raise SystemExit("no dataset of --datasets is available on this machine")
    args.datasets = ",".join(usable)
    for seed, d, spec in jobs(args):
        name = contender(spec)[0]
        out = results / f"{run_name(d, name, seed)}.json"
        stem = run_name(d, name, seed, results)
        log, lock = RUNS / f"{stem}.log", RUNS / f"{stem}.lock"
        if out.exists() or (lock.exists() and pid_alive(int(lock.read_text() or 0))):
            continue
        t = time.time()
        cmd = [sys.executable, __file__, "_run", "--dataset", d, "--contender", spec, "--seed", str(seed), "--json",
               str(out), "--epochs", str(args.epochs), "--epochs-scale", str(args.epochs_scale)]  # fmt: skip
        with open(log, "w") as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=child_env())
            lock.write_text(str(p.pid))
            rc = p.wait()
        lock.unlink(missing_ok=True)
        if rc or not out.exists():
            print(f"FAILED {d} {name} seed {seed} (rc={rc}), log: {log}", flush=True)
            continue
        res = json.loads(out.read_text())
        print(f"{time.strftime('%H:%M:%S')} {d:>18} {name:>20} seed {seed}: mIoU {100 * res['mIoU']:.1f} "
              f"({time.time() - t:.0f} s, load {res['load_before']:.1f})", flush=True)  # fmt: skip


# ------------------------------------------------------------------------------------------------------ latency


def real_image(h: int = 512, w: int = 1024) -> np.ndarray:
    """A 512x1024 crop of the real satellite image of the `roads` set, as a 1x3xHxW float32 input in [0, 1]."""
    import cv2
    from datasets import source_file, to_uint8

    img = to_uint8(cv2.imread(str(source_file("roads_img", ROOT)), cv2.IMREAD_UNCHANGED))[:h, :w]
    return np.ascontiguousarray(np.repeat(img[None, None], 3, 1).astype(np.float32) / 255)


def untrained(model_yaml: str, task: str, nc: int, folder: Path):
    """`model_yaml` (or the architecture of a checkpoint, e.g. the packaged start) built with `nc` classes and random
    weights (its resolved yaml saved in `folder`, same stem)."""
    from ultralytics import YOLO
    from ultralytics.utils import YAML

    import ultralytics_semseg  # noqa: F401  (registers the task)

    if model_yaml.startswith("smp:"):  # no YAML rows: save the built rival as a checkpoint YOLO() can load
        import torch
        from smp_rivals import ARCHS, SmpSemSegModel

        name = model_yaml.removeprefix("smp:")
        torch.save({"model": SmpSemSegModel(*ARCHS[name], nc=nc), "train_args": {"task": task}}, folder / f"{name}.pt")
        return YOLO(str(folder / f"{name}.pt"), task=task)
    cfg = {k: v for k, v in YOLO(model_yaml, task=task).model.yaml.items() if k != "yaml_file"}
    path = folder / Path(model_yaml).with_suffix(".yaml").name  # the name carries the scale; a .pt gives its yaml
    YAML.save(path, {**cfg, "nc": nc})
    return YOLO(str(path), task=task)


def latency_model(spec: str, dataset: str, results: Path, folder: Path):
    """(model, what its weights are): the seed-0 ``last.pt`` of contender `spec` on `dataset` where this machine has
    it, else the contender's architecture with the dataset's class count and random weights (ONNX Runtime's speed does
    not depend on the weights' values, so a fresh clone need not retrain the baseline to time it); contenders of an
    earlier default head (EARLIER_HEADS) get that head."""
    from ablate import decoder
    from ultralytics import YOLO
    from ultralytics.utils import YAML

    name, (model_yaml, task, _) = contender(spec)
    weights = RUNS / run_name(dataset, name, 0, results) / "weights" / "last.pt"
    if weights.exists() and name not in EARLIER_HEADS:  # their pickled heads need the package code they ran with
        return YOLO(str(weights)), "seed-0 last.pt"
    nc = len(YAML.load(build(dataset))["names"])
    head = EARLIER_HEADS.get(name)
    with decoder(head):
        return untrained(model_yaml, task, nc, folder), f"random, {head} head" if head else "random"


def latency(args) -> None:
    """ONNX Runtime latency of the contenders (default: LATENCY_PAIR) per dataset, timed alternately."""
    import tempfile

    import onnxruntime as ort

    results = Path(args.results)
    specs = split_contenders(args.contenders) if args.contenders else list(LATENCY_PAIR)
    names = [contender(c)[0] for c in specs]
    x = real_image()
    out, stamp = {}, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for d in args.datasets.split(","):
        sessions, kinds = {}, {}
        for n, spec in zip(names, specs):
            folder = Path(tempfile.mkdtemp(prefix=f"latency_{n}_"))
            model, kinds[n] = latency_model(spec, d, results, folder)
            cwd = os.getcwd()
            os.chdir(folder)  # a model built from a bare YAML name exports into the working directory
            try:
                f = str(Path(model.export(format="onnx", imgsz=[512, 1024], verbose=False)).resolve())
            finally:
                os.chdir(cwd)
            o = ort.SessionOptions()
            o.intra_op_num_threads, o.inter_op_num_threads = 2, 1
            sessions[n] = ort.InferenceSession(f, o, providers=["CPUExecutionProvider"])
        deadline = time.time() + args.wait_quiet
        while os.getloadavg()[0] > 1.0 and time.time() < deadline:  # wait (bounded) for a quiet machine
            time.sleep(15)
        load0 = os.getloadavg()[0]
        times = {n: [] for n in sessions}
        for s in sessions.values():
            s.run(None, {"images": x}), s.run(None, {"images": x})
        for _ in range(args.runs):
            for n, s in sessions.items():
                time.sleep(args.pause)  # let the previous session's spinning threads go idle (see --pause)
                t = time.perf_counter()
                s.run(None, {"images": x})
                times[n].append((time.perf_counter() - t) * 1e3)
        load1 = os.getloadavg()[0]
        out[d] = {n: {"median_ms": float(np.median(v)), "iqr_ms": [float(np.percentile(v, 25)),
                                                                    float(np.percentile(v, 75))], "weights": kinds[n]}
                  for n, v in times.items()}  # fmt: skip
        out[d].update(load_before=load0, load_after=load1, under_load=max(load0, load1) > 1.0)
        (results / "latency").mkdir(parents=True, exist_ok=True)  # after every dataset: a killed run keeps the rest
        record = dict(runs=args.runs, threads=2, pause_s=args.pause, latency=out)
        (results / "latency" / f"{stamp}.json").write_text(json.dumps(record, indent=1))
        base = out[d][names[-1]]["median_ms"]
        print(f"{d:>18}: " + ", ".join(f"{n} {out[d][n]['median_ms']:.1f} ms ({out[d][n]['median_ms'] / base:.3f})"
                                       for n in names) + f", load {load0:.1f}/{load1:.1f}", flush=True)  # fmt: skip


# -------------------------------------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("cmd", nargs="?", default="run", choices=["run", "latency", "table", "_run"])
    p.add_argument("--datasets", default=",".join(DEFAULT))
    p.add_argument("--contenders", default=None, help=f"run: default {','.join(ROUND)}; latency: the baseline last")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--runs", type=int, default=30, help="latency: timed runs per model")
    p.add_argument("--pause", type=float, default=0.05,
                   help="latency: sleep before each timed run, so ONNX Runtime's spinning threads of the session timed "
                        "before do not share the CPU with the one timed now")  # fmt: skip
    p.add_argument("--wait-quiet", type=float, default=0, help="latency: wait up to this many s for load avg < 1")
    p.add_argument(
        "--epochs-scale", type=float, default=1.0, help="run: multiply every dataset's epochs (budget check)"
    )
    p.add_argument("--frozen", action="store_true", help="run: use a copy of the committed code (git archive HEAD)")
    p.add_argument("--package-at", default="HEAD", help="run --frozen: take the package source from this commit")
    p.add_argument("--epochs", type=int, default=0, help="override every dataset's epochs (smoke tests only)")
    p.add_argument("--dataset", help=argparse.SUPPRESS)  # child process
    p.add_argument("--contender", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")
    if args.cmd == "run" and not args.contenders:
        args.contenders = ",".join(ROUND)
    if args.cmd == "_run":
        run_one(args)
    elif args.cmd == "run":
        if args.frozen:
            freeze_and_exec(args)
        run_round(args)
    elif args.cmd == "latency":
        latency(args)
    else:
        from report import write_report

        write_report(Path(args.results))


if __name__ == "__main__":
    main()
