"""Pretraining on generated data (issue 10, part 3): does a procedurally pretrained start beat random weights?

Usage:
    python benchmarks/pretrain.py [--images 600] [--epochs 30] [--imgsz 192] [--model M.yaml] [--name RUN] [--seed 0]
        # builds the mix, trains, prints the .pt
    python benchmarks/pretrain.py --package [benchmarks/.runs/pretrain-mix/weights/last.pt]  # -> the wheel's weights,
        # named after the run's model YAML (yolo11n-semseg.pt; a --model yolo26n-semseg.yaml run: yolo26n-semseg.pt)
    python benchmarks/transfer.py run --frozen --datasets nuclei,roads,brain \\
        --contenders "ours-pretrained=ours:pretrained=$PWD/benchmarks/.runs/pretrain-mix/weights/last.pt"
    # or from the packaged weights: --contenders "ours-pretrained=ours:pretrained=yolo11n-semseg.pt"
    python benchmarks/pretrain.py --card [JSON] [--weights yolo11n-semseg.pt]  # a packaged file's model card numbers

The pretraining set mixes the package's street scenes (8 classes, ids 0-7) and the aerial tiles of
`benchmarks/datasets.py` (6 classes, ids 8-13), both from seeds the benchmark's generated sets do not use. The
real datasets (nuclei, roads, brain) are never seen, so fine-tuning on them measures transfer; the generated
benchmark sets come from the same generators and are not a fair test of it. `yolo11n-semseg.yaml`, the package's
default recipe, `nbs` = batch = 8, no validation; the checkpoint lands in ``benchmarks/.runs/pretrain-mix/``.

`--package` turns a checkpoint of this script into the package's ``ultralytics_semseg/weights/yolo11n-semseg.pt``
(what `YOLO("yolo11n-semseg.pt")` loads, model card in docs/models.md): optimizer stripped (FP16), and nothing of this
machine left in it (absolute paths, git state); the arguments a loaded model passes on are the task and the training
image size (192, the default of predict/val/train from it unless `imgsz=` says otherwise), not the pretraining data.

`--card` writes the raw output behind the model card's figures (docs/models.md): what the packaged checkpoint itself
records (`train_metrics`, the run's arguments, its cumulative training time per epoch), `yolo semseg val` of the
packaged file on the built-in street scenes at several image sizes, and the fine-tuning cells of
`benchmarks/results/round2/` (`ours` and `ours-pretrained` on the real sets) with their files, means and spreads,
and how many of a 2-class model's tensors the checkpoint fills (same name and shape, as Ultralytics transfers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from datasets import DATASETS, ROOT, aerial_tile, write_pair, write_yaml  # noqa: E402
from transfer import BATCH, RUNS, child_env  # noqa: E402

from ultralytics_semseg.cfg import WEIGHTS_DIR  # noqa: E402  (the wheel's pretrained checkpoints; a light import)

NAME = "pretrain-mix"
PACKAGED = WEIGHTS_DIR / "yolo11n-semseg.pt"
STREETS_SEED = 7  # the benchmark's streets use the generator's default seed 0
AERIAL_OFFSET = 200_000  # the benchmark's aerial tiles use seeds 0-63 and 10000-10023


def build_mix(n: int, root: Path = ROOT / NAME) -> Path:
    """`n` street scenes and `n` aerial tiles for training (24 + 24 for a sanity val split) under `root`."""
    from ultralytics_semseg.data.synthetic_streets import STREET_NAMES, generate_synthetic_streets

    if (root / "data.yaml").exists():
        return root / "data.yaml"
    tmp = root.with_name(f".{root.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    generate_synthetic_streets(tmp / "toy", n_train=n, n_val=24, seed=STREETS_SEED)
    for split, count in (("train", n), ("val", 24)):
        for f in sorted((tmp / "toy" / "images" / split).glob("*.jpg")):
            mask = cv2.imread(str(tmp / "toy" / "masks" / split / f"{f.stem}.png"), cv2.IMREAD_UNCHANGED)
            write_pair(tmp, split, f"streets_{f.stem}", cv2.imread(str(f)), mask)
        offset = AERIAL_OFFSET + (0 if split == "train" else 100_000)
        for i in range(count):
            img, mask = aerial_tile(np.random.default_rng(offset + i))
            write_pair(tmp, split, f"aerial_{i:05d}", img, np.where(mask == 255, 255, mask + len(STREET_NAMES)))
    shutil.rmtree(tmp / "toy")
    write_yaml(tmp, [*STREET_NAMES.values(), *(f"aerial {c}" for c in DATASETS["aerial"]["names"])])
    tmp.rename(root)  # complete or absent: data.yaml is written before the folder takes its name
    (root / "data.yaml").write_text((root / "data.yaml").read_text().replace(str(tmp), str(root)))
    return root / "data.yaml"


def package(last: Path, out: Path | None = None) -> Path:
    """Write `last` as the package's pretrained checkpoint `out` (see the module docstring); returns `out`.

    `out` defaults to the wheel's file named after the pretrained model YAML, e.g. `yolo26n-semseg.pt` for a run of
    `--model yolo26n-semseg.yaml`.
    """
    import hashlib
    import tempfile

    import torch
    from ultralytics.utils.torch_utils import strip_optimizer

    import ultralytics_semseg  # noqa: F401  (registers the task, allow-lists its classes for loading)

    with tempfile.TemporaryDirectory() as tmp:
        stripped = Path(tmp) / "stripped.pt"
        strip_optimizer(last, stripped)  # FP16 model, no optimizer/EMA; train_args reduced to Ultralytics' keys
        ckpt = torch.load(stripped, map_location="cpu", weights_only=False)
    repo = f"{HERE.parent}{os.sep}"
    ckpt.pop("git", None)  # the pretraining machine's checkout
    # Ultralytics hands train_args on to every use of the loaded model: the task and the image size it was trained at
    # go on (like any checkpoint's), not the path of a dataset the user does not have; the pretraining run's own
    # arguments stay readable under pretrain_args
    args = {k: v.replace(repo, "") if isinstance(v, str) else v for k, v in ckpt["train_args"].items()}
    model = ckpt["model"]
    yaml_name = Path(model.yaml.get("yaml_file") or "yolo11n-semseg.yaml").name  # e.g. yolo26n-semseg.yaml
    out = out or WEIGHTS_DIR / f"{Path(yaml_name).stem}.pt"
    ckpt["pretrain_args"] = {**args, "model": yaml_name}
    ckpt["train_args"] = {"task": args["task"], "imgsz": args["imgsz"]}
    model.args = dict(ckpt["train_args"])
    model.yaml["yaml_file"] = yaml_name
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, out)
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB, sha256 {hashlib.sha256(out.read_bytes()).hexdigest()})")
    return out


def card(out: Path, weights: str = PACKAGED.name, sizes: tuple[int, ...] = (192, 256, 640)) -> dict:
    """Write the model card's raw numbers of the packaged `weights` to `out` (JSON, see the module docstring).

    The fine-tuning cells of round 2 belong to `yolo11n-semseg.pt`; other starts are compared in later rounds' folders.
    """
    import json
    import statistics
    import tempfile

    import torch
    from ultralytics import YOLO

    import ultralytics_semseg  # noqa: F401  (registers the task, allow-lists its classes for loading)

    packaged = WEIGHTS_DIR / weights
    ckpt = torch.load(packaged, map_location="cpu", weights_only=False)
    times = ckpt.get("train_results", {}).get("time", [])
    record = {
        "script": "benchmarks/pretrain.py --card",
        "checkpoint": str(packaged.relative_to(HERE.parent)),
        "checkpoint_date": ckpt.get("date"),
        "train_metrics": ckpt.get("train_metrics"),
        "pretrain_args": {k: ckpt.get("pretrain_args", {}).get(k) for k in ("epochs", "batch", "nbs", "imgsz", "seed")},
        "train_time_s": times[-1] if times else None,
        "loadavg_before": os.getloadavg(),
        "val_builtin_streets": {},
    }
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # YOLO(weights) copies the packaged file into the working directory
        try:
            for imgsz in sizes:
                m = YOLO(weights).val(imgsz=imgsz, batch=1, plots=False, verbose=False)
                names = m.names if hasattr(m, "names") else {}
                record["val_builtin_streets"][str(imgsz)] = {
                    "results_dict": {k: float(v) for k, v in m.results_dict.items()},
                    "names": {int(k): v for k, v in names.items()} if names else None,
                }
        finally:
            os.chdir(cwd)
    cells = {}
    for ds in ("nuclei", "roads", "brain") if weights == PACKAGED.name else ():
        for contender in ("ours", "ours-pretrained"):
            files = sorted((HERE / "results" / "round2").glob(f"{ds}__{contender}__s[0-2].json"))
            vals = [100 * json.loads(f.read_text())["mIoU"] for f in files]
            cells[f"{ds}/{contender}"] = {
                "files": [str(f.relative_to(HERE.parent)) for f in files],
                "mIoU_pct": vals,
                "mean": statistics.mean(vals) if vals else None,
                "std": statistics.stdev(vals) if len(vals) > 1 else None,
            }
    record["finetune_round2"] = cells
    from ultralytics_semseg.nn.model import SemSegModel

    # a 2-class fine-tuning model of the same architecture
    target = SemSegModel(ckpt["pretrain_args"]["model"], nc=2, verbose=False).state_dict()
    source = ckpt["model"].float().state_dict()
    same = [k for k, v in source.items() if k in target and v.shape == target[k].shape]
    record["tensors_transferred_to_nc2"] = {"transferred": len(same), "of": len(target)}
    record["loadavg_after"] = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    return record


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=600, help="street scenes and aerial tiles each")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--imgsz", type=int, default=192)
    p.add_argument("--model", default="yolo11n-semseg.yaml", help="model YAML to pretrain")
    p.add_argument("--name", default=NAME, help=f"run folder under {RUNS} (default {NAME})")
    p.add_argument("--seed", type=int, default=0, help="training seed (initial weights, augmentation, order)")
    p.add_argument("--package", nargs="?", const=RUNS / NAME / "weights" / "last.pt", type=Path, metavar="CKPT",
                   help="write CKPT as the package's weights named after its model YAML (e.g. "
                        f"{PACKAGED.name}) instead of training")  # fmt: skip
    p.add_argument("--card", nargs="?", const=True, metavar="JSON",
                   help="write the model card's raw numbers of --weights instead of training (default "
                        "benchmarks/results/model_card/<weights stem>.json)")  # fmt: skip
    p.add_argument("--weights", default=PACKAGED.name, help="--card: which packaged checkpoint")
    args = p.parse_args()
    if args.card:
        default = HERE / "results" / "model_card" / f"{Path(args.weights).stem}.json"
        card(default if args.card is True else Path(args.card), args.weights)
        return
    if args.package:
        package(args.package)
        return
    os.environ.update({k: v for k, v in child_env().items() if k in ("YOLO_OFFLINE", "OMP_WAIT_POLICY",
                                                                     "YOLO_CONFIG_DIR")})  # fmt: skip
    (RUNS / ".config").mkdir(parents=True, exist_ok=True)
    data = build_mix(args.images)
    from ultralytics import YOLO

    import ultralytics_semseg  # noqa: F401  (registers the task)

    if args.name != NAME and (RUNS / args.name).exists():
        sys.exit(f"{RUNS / args.name} exists: pick another --name (a run's checkpoints are never overwritten)")
    YOLO(args.model).train(data=str(data), epochs=args.epochs, imgsz=args.imgsz, batch=BATCH, nbs=BATCH, seed=args.seed,
                           deterministic=False, project=str(RUNS), name=args.name, exist_ok=True, plots=False,
                           val=False, workers=0)  # fmt: skip
    print(RUNS / args.name / "weights" / "last.pt")


if __name__ == "__main__":
    main()
