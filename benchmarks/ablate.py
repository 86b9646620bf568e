"""Ablations of our n model: decoder designs, losses and schedule, on the two generated sets of issue 6.

Usage:
    python benchmarks/ablate.py [--variants baseline,ohem,...] [--epochs 20] [--imgsz 256] [--batch 16] [--seeds 0]
                                [--base cls_pw=0]

`--base` sets training arguments of every run: the first round of docs/benchmarks.md used `cls_pw=0` (plain
cross-entropy, before class weights became the default), the second the defaults.

Every variant trains yolo11n-semseg on the synthetic streets and on the generated "blobs" set (each run in its own
subprocess, so a variant's code never leaks into the next), then scores `best.pt` with our validator
(`transfer.evaluate`) at the original label resolution. Decoder variants also report parameters and their ONNX
Runtime latency at 512x1024 (2 threads) against the current head, timed alternately in one process.

The variants that lost are implemented here, not in the package: the package keeps what won (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

os.environ.setdefault("YOLO_OFFLINE", "true")
from ultralytics.nn.modules import Conv, DWConv  # noqa: E402

from ultralytics_semseg.constants import IGNORE  # noqa: E402
from ultralytics_semseg.nn.head import SemSegHead  # noqa: E402
from ultralytics_semseg.nn.loss import SemSegLoss, soft_dice  # noqa: E402
from ultralytics_semseg.utils.ops import class_map, upsample_logits  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from datasets import build  # noqa: E402
from transfer import evaluate  # noqa: E402

OURS = "yolo11n-semseg.yaml"

# ---------------------------------------------------------------------------------------------------------- losses


def _pixel_ce(logits, target, weight=None):
    if logits.shape[2:] != target.shape[1:]:
        logits = F.interpolate(logits, size=target.shape[1:], mode="bilinear", align_corners=False)
    return logits.float(), F.cross_entropy(logits.float(), target, weight=weight, ignore_index=IGNORE, reduction="none")


def ohem_ce(logits, target, thresh: float = 0.7, min_kept: float = 1 / 16):
    """Online hard example mining: mean CE over pixels whose true-class probability is below `thresh`, at least
    `min_kept` of the valid pixels (the hardest ones)."""
    _, loss = _pixel_ce(logits, target)
    loss = loss[target != IGNORE]
    if loss.numel() == 0:
        return loss.sum()
    k = max(int(min_kept * loss.numel()), 1)
    hard = loss[loss > -torch.log(torch.tensor(thresh))]
    return hard.mean() if hard.numel() >= k else loss.topk(k).values.mean()


def lovasz_softmax(logits, target):
    """Lovasz-softmax (Berman et al. 2018) over the classes present in the batch."""
    logits, _ = _pixel_ce(logits, target)
    prob = logits.softmax(1).permute(0, 2, 3, 1).reshape(-1, logits.shape[1])
    t = target.reshape(-1)
    prob, t = prob[t != IGNORE], t[t != IGNORE]
    losses = []
    for c in t.unique():
        fg = (t == c).float()
        err = (fg - prob[:, c]).abs()
        err, order = err.sort(descending=True)
        fg = fg[order]
        gts = fg.sum()
        jaccard = 1 - (gts - fg.cumsum(0)) / (gts + (1 - fg).cumsum(0))
        jaccard[1:] = jaccard[1:] - jaccard[:-1]
        losses.append(torch.dot(err, jaccard))
    return torch.stack(losses).mean() if losses else prob.sum() * 0


def boundary_ce(logits, target, width: int = 2):
    """Mean CE over pixels within `width` px of a label change (a boundary-aware auxiliary term)."""
    _, loss = _pixel_ce(logits, target)
    t = target.float().unsqueeze(1)
    k = 2 * width + 1
    edge = (F.max_pool2d(t, k, 1, width) != -F.max_pool2d(-t, k, 1, width))[:, 0] & (target != IGNORE)
    return loss[edge].mean() if edge.any() else loss.sum() * 0


class AblationLoss(SemSegLoss):
    """SemSegLoss with a loss variant's term on the main and the aux logits alike (class weights as configured).

    The variant's term replaces the package's Dice term (training argument `dice`), which is left out here.
    """

    def __init__(self, variant: str, class_weights=None):
        super().__init__(class_weights=class_weights)
        self.variant = variant

    def term(self, logits, target):
        """The variant's loss of one set of logits (SemSegLoss.forward calls it for the main and the aux logits)."""
        if self.variant == "ohem":
            return ohem_ce(logits, target)
        extra = {"dice": soft_dice, "lovasz": lovasz_softmax, "boundary": boundary_ce}[self.variant]
        return super().term(logits, target) + extra(logits, target)


LOSSES = ("ohem", "dice", "lovasz", "boundary")

# -------------------------------------------------------------------------------------------------------- decoders


class NoDetail(SemSegHead):
    """Logits at stride 8 from the fused P3-P5 features: no stride-4 detail path."""

    out_stride = 8

    def __init__(self, nc, ch, c=64, aux=True):
        super().__init__(nc, ch, c, aux)
        del self.detail

    def decode(self, x):
        return self.classifier(self.fuse(self.fuse_levels(*x[1:])))


class P3Only(SemSegHead):
    """No multi-level fusion: P3 alone feeds the decoder (P4/P5 context only through the neck)."""

    def fuse_levels(self, p3, p4, p5):
        return self.lateral[0](p3)


class LearnedUp(SemSegHead):
    """Learned 2x upsampling (depthwise transposed convolution) of the context logits instead of bilinear."""

    def __init__(self, nc, ch, c=64, aux=True):
        super().__init__(nc, ch, c, aux)
        self.up = nn.ConvTranspose2d(nc, nc, 2, 2, groups=nc)

    def decode(self, x):
        p2 = x[0]
        y = self.up(self.classifier(self.fuse(self.fuse_levels(*x[1:]))))[..., : p2.shape[2], : p2.shape[3]]
        return y + self.detail(p2)


class GlobalContext(SemSegHead):
    """Global context: a projection of globally pooled P5 is added to the fused stride-8 features."""

    def __init__(self, nc, ch, c=64, aux=True):
        super().__init__(nc, ch, c, aux)
        self.global_context = Conv(ch[3], c, 1)

    def fuse_levels(self, p3, p4, p5):
        return super().fuse_levels(p3, p4, p5) + self.global_context(F.adaptive_avg_pool2d(p5, 1))


class NoDetailDW(SemSegHead):
    """The P2 detail branch without its depthwise 3x3 (1x1 convolutions only at stride 4)."""

    def __init__(self, nc, ch, c=64, aux=True):
        super().__init__(nc, ch, c, aux)
        del self.detail[1]


class Concat4(SemSegHead):
    """The default head until December 2026: the upsampled stride-8 features concatenated with a P2 projection at
    stride 4, a depthwise-separable refinement there and the classifier at stride 4 (never in a release)."""

    def __init__(self, nc, ch, c=64, aux=True):
        super().__init__(nc, ch, c, aux)
        c_detail = self.detail[0].conv.out_channels
        self.detail = Conv(ch[0], c_detail, 1, act=nn.ReLU())
        self.refine = nn.Sequential(
            DWConv(c + c_detail, c + c_detail, 3, act=nn.ReLU()), Conv(c + c_detail, c, 1, act=nn.ReLU())
        )
        self.classifier = nn.Conv2d(c, nc, 1)

    def decode(self, x):
        p2, p3, p4, p5 = x
        y = self.fuse(self.fuse_levels(p3, p4, p5))
        y = F.interpolate(y, size=p2.shape[2:], mode="bilinear", align_corners=False)
        return self.classifier(self.refine(torch.cat((y, self.detail(p2)), 1)))


class ContextMix(SemSegHead):
    """Stride-8 features projected linearly (before the x2 upsampling), added to a P2 branch widened to `c`, ReLU and
    the classifier at stride 4 (screened in round 2 as `ours-ctx8`)."""

    def __init__(self, nc, ch, c=64, aux=True):
        super().__init__(nc, ch, c, aux)
        self.context = Conv(c, c, 1, act=False)
        self.detail[-1] = Conv(self.detail[1].conv.out_channels, c, 1, act=False)
        self.classifier = nn.Conv2d(c, nc, 1)

    def decode(self, x):
        p2, p3, p4, p5 = x
        y = self.context(self.fuse(self.fuse_levels(p3, p4, p5)))
        return self.classifier(
            F.relu(F.interpolate(y, size=p2.shape[2:], mode="bilinear", align_corners=False) + self.detail(p2))
        )


class _UpsampleNHWC(torch.autograd.Function):
    """Bilinear x`scale` upsampling returning (B, H, W, C); in ONNX a Transpose and a Resize in NHWC."""

    @staticmethod
    def forward(ctx, logits, scale: int):
        return upsample_logits(logits, scale_factor=scale).permute(0, 2, 3, 1)

    @staticmethod
    def symbolic(g, logits, scale: int):
        nhwc = g.op("Transpose", logits, perm_i=[0, 2, 3, 1])
        roi = g.op("Constant", value_t=torch.tensor([], dtype=torch.float32))
        scales = g.op("Constant", value_t=torch.tensor([1.0, scale, scale, 1.0], dtype=torch.float32))
        return g.op("Resize", nhwc, roi, scales, mode_s="linear", coordinate_transformation_mode_s="half_pixel")


class NHWCTail(SemSegHead):
    """Today's head with the ONNX class-map tail of 3+ classes used until December 2026: the logits transposed to
    NHWC, upsampled there and an ArgMax over the last axis (format=onnx `classmap`/`classmap_int32`; the layers and
    every other output are the package's)."""

    def export_outputs(self, logits):
        mode = self.export_output
        onnx_runtime_tail = self.ort_tail and torch.onnx.is_in_onnx_export() and logits.shape[1] > 2
        if not onnx_runtime_tail or mode not in ("classmap", "classmap_int32"):
            return super().export_outputs(logits)
        return self.crop(
            class_map(_UpsampleNHWC.apply(logits, self.out_stride), int32=mode == "classmap_int32", dim=-1)
        )


class DetailS2(SemSegHead):
    """A second detail branch at stride 2: the head's stride-4 logits upsampled x2 plus detail logits from P1 (layer 0
    of the YAML `benchmarks/models/yolo11-semseg-p1.yaml`, which feeds (P1, P2, P3, P4, P5)); logits at stride 2."""

    out_stride = 2

    def __init__(self, nc, ch, c=64, aux=True):
        super().__init__(nc, ch[1:], c, aux)
        c1 = max(ch[0] // 2, 8)
        self.detail2 = nn.Sequential(Conv(ch[0], c1, 1, act=nn.ReLU()), DWConv(c1, c1, 3, act=nn.ReLU()),
                                     nn.Conv2d(c1, nc, 1))  # fmt: skip

    def decode(self, x):
        p1 = x[0]
        return F.interpolate(super().decode(x[1:]), size=p1.shape[2:], mode="bilinear", align_corners=False) + (
            self.detail2(p1)
        )

    def forward(self, x):
        logits = self.decode(x)
        if self.training:
            return logits, (self.aux(x[3]) if self.aux is not None else None)  # P4 is the fourth input here
        return self.export_outputs(logits) if self.exporting else logits


HEADS = {"no-detail": NoDetail, "p3-only": P3Only, "learned-up": LearnedUp, "context": GlobalContext,
         "no-detail-dw": NoDetailDW, "concat4": Concat4, "context-mix": ContextMix, "nhwc-tail": NHWCTail,
         "detail-s2": DetailS2}  # fmt: skip
# decoder variants that read other layers than the package's YAML: their model YAML (relative to benchmarks/)
VARIANT_YAML = {"detail-s2": "models/yolo11n-semseg-p1.yaml"}


DECODERS = tuple(k for k in HEADS if k != "nhwc-tail")  # the tail variant trains exactly like the package's head
# Variants that are plain training arguments (class weights are the package's `cls_pw`)
ARGS = {"class-weights": {"cls_pw": 1.0}, "lr0=0.004": {"lr0": 0.004}}

# --------------------------------------------------------------------------------------------------- augmentations


class RarePaste:
    """Rare-class copy-paste, a thin-class variant of round 8 (the copy-paste of Ghiasi et al., CVPR 2021, applied to
    the rare classes of a class map, as ClassMix-style mixing does in DAFormer-era segmentation).

    With probability `p`, a donor training image is drawn class-first (a rare class uniformly, then an image that holds
    it), and the pixels of all its rare classes are pasted at the same place into the sample, image and mask alike,
    before the resize and crop. Rare: a share of the split's labelled pixels below `rare_below / nc`. Frames of one
    street camera share their layout, so a pole pasted where it stood in another frame is plausible.

    Examples:
        >>> ds = type("D", (), {"labels": [{"counts": np.array([90, 10])}, {"counts": np.array([100, 0])}]})()
        >>> RarePaste(ds, p=1.0).rare.tolist()  # class 1 holds 5 % of the pixels, below 0.5 / 2 classes
        rare-paste: p=1.0, rare classes [1]
        [1]
    """

    def __init__(self, dataset, p: float = 0.5, rare_below: float = 0.5):
        counts = np.stack([x["counts"] for x in dataset.labels]).astype(np.float64)
        share = counts.sum(0) / max(counts.sum(), 1.0)
        present = share > 0
        self.rare = np.flatnonzero(present & (share < rare_below / max(int(present.sum()), 1)))
        self.holders = {int(c): np.flatnonzero(counts[:, c] > 0) for c in self.rare}
        self.dataset, self.p = dataset, p
        names = getattr(dataset, "data", {}).get("names", {})
        print(f"rare-paste: p={p}, rare classes {[names.get(int(c), int(c)) for c in self.rare]}", flush=True)

    def __call__(self, labels: dict) -> dict:
        if not len(self.rare) or random.random() >= self.p:
            return labels
        donor = int(random.choice(self.holders[int(random.choice(self.rare))]))
        img, mask = self.dataset.load_train_pair(donor)
        h, w = labels["semseg_mask"].shape
        if mask.shape != (h, w):
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
        paste = np.isin(mask, self.rare)
        labels["img"] = labels["img"].copy()
        labels["img"][paste] = img.reshape(h, w, -1)[paste]
        labels["semseg_mask"] = labels["semseg_mask"].copy()
        labels["semseg_mask"][paste] = mask[paste]
        return labels


# augmentation variants: name -> (transform class, keyword arguments), inserted first in the training transforms
AUGMENTS = {"rare-paste": (RarePaste, {"p": 0.5})}


def add_augment(variant: str) -> None:
    """Patch `SemSegDataset.build_transforms` so training transforms start with the augmentation `variant`."""
    from ultralytics_semseg.data.dataset import SemSegDataset

    transform, kwargs = AUGMENTS[variant]
    original = SemSegDataset.build_transforms

    def build_transforms(self, hyp=None):
        transforms = original(self, hyp)
        if self.augment:
            transforms.insert(0, transform(self, **kwargs))
        return transforms

    SemSegDataset.build_transforms = build_transforms


# Weight of the auxiliary (P4, stride 16) head's loss instead of the model's (YAML `aux_weight`, 0.4 where unset):
# at stride 16 a pole or a sign is below one cell, so the aux term may teach P4 to paint them over; 0 removes it
AUX_WEIGHTS = {"aux0": 0.0, "aux0.1": 0.1}

VARIANTS = ("baseline", *DECODERS, *LOSSES, *ARGS, *AUGMENTS, *AUX_WEIGHTS)

# ------------------------------------------------------------------------------------------------------- one run


def apply_variant(variant: str) -> dict:
    """Patch the model class for a decoder/loss variant (the dataset for an augmentation); return extra training
    arguments."""
    from ultralytics_semseg.nn import model as model_module

    if variant in DECODERS:
        model_module.SemSegHead = HEADS[variant]
    elif variant in LOSSES:
        cls = model_module.SemSegModel

        def init_criterion(self):
            return AblationLoss(variant, getattr(self, "class_weights", None))

        cls.init_criterion = init_criterion
    elif variant in AUGMENTS:
        add_augment(variant)
    elif variant in AUX_WEIGHTS:
        package_criterion = model_module.SemSegModel.init_criterion

        def init_criterion(self):
            criterion = package_criterion(self)  # the package's loss: class weights and Dice as configured
            criterion.aux_weight = AUX_WEIGHTS[variant]
            return criterion

        model_module.SemSegModel.init_criterion = init_criterion
    elif variant not in ARGS and variant != "baseline":
        raise ValueError(f"unknown variant '{variant}', choose from {', '.join(VARIANTS)}")
    return ARGS.get(variant, {})


@contextlib.contextmanager
def decoder(variant: str | None):
    """Models built inside get the decoder variant `variant` (None or '': the package's head); restored after."""
    from ultralytics_semseg.nn import model as model_module

    original = model_module.SemSegHead
    model_module.SemSegHead = HEADS[variant] if variant else original
    try:
        yield
    finally:
        model_module.SemSegHead = original


def onnx_latency(variant: str, runs: int = 20) -> tuple[int, float, float]:
    """(params, variant ms, current head ms) at 512x1024 in ONNX Runtime, 2 threads, timed alternately."""
    import onnxruntime as ort
    from ultralytics import YOLO

    files, params = {}, 0
    for key in ("current", variant):
        with decoder(variant if key == variant else None):
            m = YOLO(OURS)
        m.model.model[-1].aux = None
        params = sum(p.numel() for p in m.model.parameters()) if key == variant else params
        files[key] = m.export(format="onnx", imgsz=[512, 1024], verbose=False)
        Path(files[key]).rename(f"{files[key]}.{key}.onnx")
        files[key] = f"{files[key]}.{key}.onnx"
    o = ort.SessionOptions()
    o.intra_op_num_threads, o.inter_op_num_threads = 2, 1
    sess = {k: ort.InferenceSession(f, o, providers=["CPUExecutionProvider"]) for k, f in files.items()}
    x = np.random.rand(1, 3, 512, 1024).astype(np.float32)
    times = {k: [] for k in sess}
    for s in sess.values():
        s.run(None, {"images": x})
    for _ in range(runs):
        for k, s in sess.items():
            t = time.perf_counter()
            s.run(None, {"images": x})
            times[k].append((time.perf_counter() - t) * 1e3)
    return params, float(np.median(times[variant])), float(np.median(times["current"]))


def parse_args(text: str) -> dict:
    """'cls_pw=0,lr0=0.004' -> {'cls_pw': 0.0, 'lr0': 0.004} (numbers where they parse)."""
    out = {}
    for item in filter(None, text.split(",")):
        k, v = item.split("=", 1)
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


def run_one(args) -> None:
    """Child process: train + evaluate one variant on one dataset, print a JSON line."""
    from ultralytics import YOLO

    import ultralytics_semseg  # noqa: F401

    out = {}
    if args.variant in DECODERS and args.latency:
        out["params"], out["ms"], out["ms_current"] = onnx_latency(args.variant)
    extra = apply_variant(args.variant)

    model = YOLO(str(Path(__file__).parent / VARIANT_YAML[args.variant]) if args.variant in VARIANT_YAML else OURS)
    name = f"{Path(args.data).parent.name}-{args.variant}-s{args.seed}-{args.base.replace(',', '_') or 'defaults'}"
    t = time.time()
    model.train(data=args.data, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, seed=args.seed,
                deterministic=False, project=str(args.out), name=name, exist_ok=True, plots=False, verbose=False,
                workers=0, **{**parse_args(args.base), **extra})  # fmt: skip
    out["train_s"] = time.time() - t
    out["mIoU"] = 100 * evaluate(Path(args.out) / name / "weights" / "best.pt", args.data, args.imgsz)[0]
    print("ABLATION " + json.dumps(out), flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--imgsz", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seeds", default="0")
    p.add_argument("--base", default="", help="training arguments of every run, e.g. 'cls_pw=0'")
    p.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "semseg-ablations"))
    p.add_argument("--variant", help=argparse.SUPPRESS)  # child process
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--latency", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")
    args.out = Path(args.out).resolve()
    if args.variant:
        return run_one(args)

    import ultralytics_semseg  # noqa: F401
    from ultralytics_semseg.data.build import check_semseg_dataset

    datasets = {
        "synthetic-streets": str(check_semseg_dataset("synthetic-streets.yaml")["yaml_file"]),
        "blobs": str(build("blobs")),
    }
    common = ["--epochs", str(args.epochs), "--imgsz", str(args.imgsz), "--batch", str(args.batch), "--out",
              str(args.out), "--base", args.base]  # fmt: skip
    results = {}
    for variant in args.variants.split(","):
        assert variant in VARIANTS, f"unknown variant '{variant}', choose from {VARIANTS}"
        for seed in args.seeds.split(","):
            for i, (dname, data) in enumerate(datasets.items()):
                cmd = [sys.executable, __file__, "--variant", variant, "--data", data, "--seed", seed, *common]
                cmd += ["--latency"] if i == 0 and seed == args.seeds.split(",")[0] else []
                r = subprocess.run(cmd, capture_output=True, text=True)
                line = [x for x in r.stdout.splitlines() if x.startswith("ABLATION ")]
                if r.returncode or not line:
                    print(r.stdout[-3000:], r.stderr[-3000:], file=sys.stderr)
                    raise SystemExit(f"variant {variant} on {dname} failed (rc={r.returncode})")
                res = json.loads(line[0][9:])
                results.setdefault(variant, {}).setdefault(dname, []).append(res["mIoU"])
                results[variant].update({k: v for k, v in res.items() if k in {"params", "ms", "ms_current"}})
                print(f"{variant:>14} {dname:>18} seed {seed}: mIoU {res['mIoU']:.1f} ({res['train_s']:.0f} s)",
                      flush=True)  # fmt: skip

    base = f", base {args.base}" if args.base else ""
    print(f"\nepochs={args.epochs} imgsz={args.imgsz} batch={args.batch} seeds={args.seeds}{base}; mIoU (%)")
    print("| variant | streets mIoU | blobs mIoU | mean | params | ORT ms 512x1024 (current head) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for variant, r in results.items():
        s, b = np.mean(r["synthetic-streets"]), np.mean(r["blobs"])
        lat = f"{r['ms']:.1f} ({r['ms_current']:.1f})" if "ms" in r else ""
        params = f"{r['params']:,}" if "params" in r else ""
        print(f"| {variant} | {s:.1f} | {b:.1f} | {(s + b) / 2:.1f} | {params} | {lat} |")


if __name__ == "__main__":
    main()
