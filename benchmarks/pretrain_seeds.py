"""Pretraining-seed study of the packaged starts (issue 19): is a start's lead its backbone's or its pretraining seed's?

Usage:
    python benchmarks/pretrain_seeds.py [--results benchmarks/results/round8-pretrain-seeds]

Each packaged start is one pretraining run of `benchmarks/pretrain.py`. Round 8 pretrains each backbone three times
(seeds 0, 1, 2; seed 0 is the shipped start) and fine-tunes every start with the same fine-tuning seeds. This script
reads the run JSONs of `benchmarks/transfer.py` in the results folder and prints, per dataset, each start's mean over
its fine-tuning seeds, then per backbone the mean ± std **over the pretraining seeds** of those means (the spread a
user who re-pretrains would see), and the verdict of the backbone difference against the larger of the two spreads.
The markdown is also written to ``summary.md`` in the results folder (the raw output the docs quote).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from report import THIN, load, ms, spread, thin_iou

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "round8-pretrain-seeds"
# backbone -> the contender name of its start pretrained with each seed (seed 0: the shipped start's runs)
STARTS = {
    "yolo11n": {0: "ours-packaged-rcs1", 1: "ours-pre-s1", 2: "ours-pre-s2"},
    "yolo26n": {0: "ours-yolo26-pre", 1: "ours-yolo26-pre-s1", 2: "ours-yolo26-pre-s2"},
}
FROM_SCRATCH = "ours-rcs1"  # reference row: the default recipe from random weights
FINETUNE_SEEDS = (0, 1, 2)  # the fine-tuning seeds every start has


def score(run: dict, dataset: str) -> tuple[float, float | None]:
    """(mIoU, mean IoU of the dataset's thin classes or None) of one run, in %."""
    thin = thin_iou(run["per_class_IoU"], dataset)
    return 100 * run["mIoU"], None if thin is None else 100 * thin


def start_means(runs: list[dict], dataset: str, contender: str) -> tuple[float, float | None, int] | None:
    """Mean (mIoU, thin) of `contender` on `dataset` over FINETUNE_SEEDS and how many runs it has; None if none."""
    mine = [r for r in runs if r["dataset"] == dataset and r["contender"] == contender and r["seed"] in FINETUNE_SEEDS]
    if not mine:
        return None
    scores = [score(r, dataset) for r in mine]
    thin = None if scores[0][1] is None else float(np.mean([s[1] for s in scores]))
    return float(np.mean([s[0] for s in scores])), thin, len(mine)


def verdict(a: list[float], b: list[float]) -> str:
    """'+d (win)' / '+d (noise)': `a` minus `b`, a win only beyond the larger of the two sample spreads."""
    if len(a) < 2 or len(b) < 2:
        return "n/a"
    delta = float(np.mean(a) - np.mean(b))
    return f"{delta:+.1f} ({'win' if abs(delta) > max(spread(a, scale=1), spread(b, scale=1)) else 'noise'})"


def dataset_table(runs: list[dict], dataset: str) -> list[str]:
    """Markdown lines for one dataset: a row per start, a row per backbone over its pretraining seeds."""
    has_thin = dataset in THIN
    head = "| start | pretraining seed | runs | mIoU |" + (" thin |" if has_thin else "")
    lines = [f"**{dataset}**" + (f" (thin: {', '.join(THIN[dataset])})" if has_thin else ""), "", head,
             "| --- " * (5 if has_thin else 4) + "|"]  # fmt: skip
    per_backbone: dict[str, tuple[list[float], list[float]]] = {}
    for backbone, seeds in STARTS.items():
        miou, thin = per_backbone.setdefault(backbone, ([], []))
        for pseed, name in seeds.items():
            got = start_means(runs, dataset, name)
            if got is None:
                continue
            miou.append(got[0])
            thin += [got[1]] if has_thin else []
            lines.append(f"| {backbone} (`{name}`) | {pseed} | {got[2]} | {got[0]:.1f} |"
                         + (f" {got[1]:.1f} |" if has_thin else ""))  # fmt: skip
    for backbone, (miou, thin) in per_backbone.items():
        if miou:
            lines.append(f"| **{backbone}, over pretraining seeds** | {len(miou)} | | **{ms(miou, scale=1)}** |"
                         + (f" **{ms(thin, scale=1)}** |" if has_thin else ""))  # fmt: skip
    scratch = start_means(runs, dataset, FROM_SCRATCH)
    if scratch:
        lines.append(f"| from scratch (`{FROM_SCRATCH}`) | | {scratch[2]} | {scratch[0]:.1f} |"
                     + (f" {scratch[1]:.1f} |" if has_thin else ""))  # fmt: skip
    (a_miou, a_thin), (b_miou, b_thin) = per_backbone["yolo26n"], per_backbone["yolo11n"]
    lines += ["", f"yolo26n − yolo11n over pretraining seeds: mIoU {verdict(a_miou, b_miou)}"
              + (f", thin {verdict(a_thin, b_thin)}" if has_thin else ""), ""]  # fmt: skip
    return lines


def render(results: Path) -> str:
    """The study's markdown for every dataset in `results` (CamVid first)."""
    runs = load(results)
    datasets = sorted({r["dataset"] for r in runs}, key=lambda d: (d != "camvid", d))
    shown = results.relative_to(HERE.parent) if results.is_relative_to(HERE.parent) else results
    intro = [f"Results folder `{shown}`: each start's mean over fine-tuning seeds "
             f"{', '.join(map(str, FINETUNE_SEEDS))}; per backbone, mean ± std over its pretraining seeds "
             "(sample std of the per-start means); a difference is a win only beyond the larger of the two spreads.",
             ""]  # fmt: skip
    return "\n".join(intro + [line for d in datasets for line in dataset_table(runs, d)]).rstrip() + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--results", type=Path, default=RESULTS)
    args = p.parse_args()
    text = render(args.results.resolve())
    (args.results / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
