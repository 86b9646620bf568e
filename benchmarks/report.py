"""Tables and the accuracy-latency plot of `benchmarks/transfer.py` results.

Usage:
    python benchmarks/transfer.py table [--results benchmarks/results/round2]

Reads every run JSON of a results folder (and the newest ``latency/*.json``), prints the markdown and writes it into
``docs/benchmarks.md`` between the ``<!-- transfer:begin NAME -->`` / ``<!-- transfer:end NAME -->`` markers (NAME:
the results folder's name), and, for the main round, draws ``docs/benchmarks.png``. Means are over seeds; ± is the
sample standard deviation over seeds (the seed noise of that cell); a difference smaller than the larger of the two
spreads is reported as noise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
MARKERS = "<!-- transfer:begin {} -->", "<!-- transfer:end {} -->"  # one block per results folder
BASELINE = "yolo26n-sem"


def main_round() -> str:
    """Name of the results folder that `transfer.py run` fills by default (the round the plot and latency show)."""
    from transfer import RESULTS

    return RESULTS.name


def load(results: Path) -> list[dict]:
    return [json.loads(f.read_text()) for f in sorted(results.glob("*.json"))]


def newest_latency(results: Path) -> dict:
    files = sorted((results / "latency").glob("*.json"))
    return json.loads(files[-1].read_text()) if files else {}


def dataset_order(runs: list[dict]) -> list[str]:
    from datasets import DATASETS

    names = {r["dataset"] for r in runs}
    return [d for d in DATASETS if d in names]


def cells(runs: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        out.setdefault((r["dataset"], r["contender"]), []).append(r)
    for v in out.values():
        v.sort(key=lambda r: r["seed"])
    return out


def ms(values: list[float], scale: float = 100) -> str:
    """'mean ± std (n)' in percent points."""
    a = scale * np.asarray(values, float)
    if len(a) == 1:
        return f"{a[0]:.1f} (1 seed)"
    return f"{a.mean():.1f} ± {a.std(ddof=1):.1f}"


def spread(values: list[float], scale: float = 100) -> float:
    """Sample standard deviation of `values` times `scale` (percent points by default); NaN for one value."""
    return scale * float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def order(names, first=("ours", BASELINE, f"{BASELINE}-shipped")) -> list[str]:
    return [n for n in first if n in names] + sorted(n for n in names if n not in first)


def main_table(runs: list[dict]) -> tuple[str, dict]:
    c = cells(runs)
    datasets = dataset_order(runs)
    contenders = order({r["contender"] for r in runs})
    lines = ["| dataset | kind | classes | budget | " + " | ".join(f"`{n}`" for n in contenders)
             + " | Δ ours − yolo26n-sem | verdict |",
             "| --- " * (6 + len(contenders)) + "|"]  # fmt: skip
    summary = {}
    for d in datasets:
        any_run = next(r for r in runs if r["dataset"] == d)
        ta = any_run["train_args"]
        from datasets import DATASETS

        n_img = any_run["images"]
        row = [d, DATASETS[d]["kind"], str(len(any_run["per_class_IoU"])),
               f"{ta['epochs']} ep @{ta['imgsz']}, {n_img['train']}/{n_img['val']} img"]  # fmt: skip
        for n in contenders:
            row.append(ms([r["mIoU"] for r in c.get((d, n), [])]) if (d, n) in c else "")
        ours, base = c.get((d, "ours")), c.get((d, BASELINE))
        if ours and base:
            delta, noise, v = verdict(ours, base)
            row += [f"{delta:+.1f}", v.replace("better", "ours better").replace("worse", "ours worse")]
            summary[d] = dict(delta=delta, noise=noise)
        else:
            row += ["", ""]
        lines.append("| " + " | ".join(row) + " |")
    # mean over the datasets that ours and the baseline both have; a contender run on fewer datasets gets no mean
    full = [d for d in datasets if (d, "ours") in c and (d, BASELINE) in c] or datasets
    row = [f"**mean of {len(full)} datasets**", "", "", ""]
    for n in contenders:
        per_seed = mean_per_seed(c, n, full)
        row.append(ms(per_seed) if per_seed else "")
    delta = [summary[d]["delta"] for d in full if d in summary]
    row += [f"{np.mean(delta):+.1f}" if delta else "", ""]
    lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines), summary


def mean_per_seed(c: dict, name: str, datasets: list[str]) -> list[float]:
    """Per seed, the mean mIoU of `name` over `datasets` (seeds that every one of them has); [] if one is missing."""
    if not all((d, name) in c for d in datasets):
        return []
    seeds = sorted(set.intersection(*[{r["seed"] for r in c[(d, name)]} for d in datasets]))
    return [float(np.mean([next(r["mIoU"] for r in c[(d, name)] if r["seed"] == s) for d in datasets])) for s in seeds]


def verdict(mine: list[dict], base: list[dict]) -> tuple[float, float, str]:
    """Δ of the means over the seeds both have (points), the larger seed spread, and the verdict."""
    seeds = sorted({r["seed"] for r in mine} & {r["seed"] for r in base})
    a = [r["mIoU"] for r in mine if r["seed"] in seeds]
    b = [r["mIoU"] for r in base if r["seed"] in seeds]
    if not seeds:
        return float("nan"), float("nan"), "no common seed"
    delta, noise = 100 * (np.mean(a) - np.mean(b)), max(spread(a), spread(b))
    if np.isnan(noise):
        return delta, noise, "n/a (1 seed)"
    return delta, noise, "noise" if abs(delta) <= noise else ("better" if delta > 0 else "worse")


def variants_table(runs: list[dict]) -> str:
    """Δ (points) of every contender against the baseline per dataset, on the seeds both have, with the verdict."""
    c = cells(runs)
    names = [n for n in order({r["contender"] for r in runs}) if n != BASELINE]
    lines = ["| dataset | " + " | ".join(f"`{n}` − `{BASELINE}`" for n in names) + " |",
             "| --- " * (1 + len(names)) + "|"]  # fmt: skip
    for d in dataset_order(runs):
        row = [d]
        for n in names:
            if (d, n) in c and (d, BASELINE) in c:
                delta, _, v = verdict(c[(d, n)], c[(d, BASELINE)])
                seeds = len({r["seed"] for r in c[(d, n)]})
                row.append(f"{delta:+.1f} ({v}, {seeds} seeds)" if seeds > 1 else f"{delta:+.1f} (1 seed)")
            else:
                row.append("")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def per_class_table(runs: list[dict]) -> str:
    c = cells(runs)
    contenders = order({r["contender"] for r in runs})
    lines = ["| dataset | class | " + " | ".join(f"`{n}`" for n in contenders) + " |",
             "| --- " * (2 + len(contenders)) + "|"]  # fmt: skip
    for d in dataset_order(runs):
        names = list(next(r for r in runs if r["dataset"] == d)["per_class_IoU"])
        for k in names:
            row = [d, k]
            for n in contenders:
                vals = [r["per_class_IoU"][k] for r in c.get((d, n), []) if r["per_class_IoU"].get(k) is not None]
                row.append(f"{100 * np.mean(vals):.1f}" if vals else "")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def cost_table(runs: list[dict]) -> str:
    contenders = order({r["contender"] for r in runs})
    lines = ["| contender | params | GFLOPs 512×1024 (nc of the first dataset) | mean train s per run | mean train "
             "CPU s per run | train s relative to yolo26n-sem (same runs) | runs | load avg during training |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    timed = [r for r in runs if r.get("omp_wait_policy") == "PASSIVE"]  # earlier runs spun idle threads: not timed
    c = cells(timed)
    for n in contenders:
        rs = [r for r in timed if r["contender"] == n]
        if not rs:
            continue
        rel = []
        for r in rs:
            b = [x for x in c.get((r["dataset"], BASELINE), []) if x["seed"] == r["seed"]]
            if b:
                rel.append(r["train_s"] / b[0]["train_s"])
        load = np.mean([(r["load_before"] + r["load_after"]) / 2 for r in rs])
        lines.append(f"| `{n}` | {rs[0]['params']:,} | {rs[0]['gflops_512x1024']:.1f} | "
                     f"{np.mean([r['train_s'] for r in rs]):.0f} | {np.mean([r['train_cpu_s'] for r in rs]):.0f} | "
                     f"{np.mean(rel) if rel else float('nan'):.2f} | {len(rs)} | {load:.1f} |")  # fmt: skip
    cpu = {}
    for (d, n), rs in c.items():
        cpu[(d, n)] = np.mean([r["train_cpu_s"] for r in rs])
    lines.append("")
    total = sum(r["train_cpu_s"] for r in timed) / 3600
    lines.append(f"Training work so far: {total:.2f} CPU-hours for {len(timed)} timed runs; "
                 f"one seed of each of the {len(c)} (dataset, contender) cells with timed results costs "
                 f"{sum(cpu.values()) / 3600:.2f} CPU-hours.")  # fmt: skip
    return "\n".join(lines)


def sanity_table(runs: list[dict]) -> str:
    rs = [r for r in runs if "ultralytics_mIoU" in r]
    if not rs:
        return ""
    diff = [100 * (r["mIoU"] - r["ultralytics_mIoU"]) for r in rs]
    worst = max(rs, key=lambda r: abs(r["mIoU"] - r["ultralytics_mIoU"]))
    return (
        f"Sanity check of the scoring: on the {len(rs)} `yolo26n-sem` runs so far, our validator's mIoU minus "
        f"Ultralytics' own `semantic` validator's is {np.mean(diff):+.1f} points on average (range "
        f"{min(diff):+.1f} to {max(diff):+.1f}; largest on {worst['dataset']} seed {worst['seed']}: "
        f"{100 * worst['mIoU']:.1f} vs {100 * worst['ultralytics_mIoU']:.1f}). Ultralytics scores at the "
        "letterboxed (down-scaled) resolution and averages only over classes with ground truth; ours scores at "
        "the labels' resolution and also counts a class that is only predicted."
    )


def latency_table(lat: dict) -> str:
    """ONNX Runtime medians of every contender timed (the baseline last in each pass), with the ratio to it."""
    if not lat:
        return "Latency: not measured yet (`python benchmarks/transfer.py latency` on a quiet machine)."
    first = next(iter(lat["latency"].values()))
    names = [n for n, v in first.items() if isinstance(v, dict)]  # contenders; the rest is the pass's load record
    lines = ["| models of | " + " | ".join(f"`{n}` ms (× {BASELINE})" for n in names) + " | weights | load avg | "
             "under load |", "| --- " * (4 + len(names)) + "|"]  # fmt: skip
    for d, v in lat["latency"].items():
        b = v[BASELINE]["median_ms"]
        cols = [f"{v[n]['median_ms']:.1f} ({v[n]['median_ms'] / b:.2f})" if n in v else "" for n in names]
        weights = sorted({v[n].get("weights", "seed-0 last.pt") for n in names if n in v})
        load = f"{v['load_before']:.1f}/{v['load_after']:.1f} | {'**yes**' if v['under_load'] else 'no'}"
        lines.append(f"| {d} | " + " | ".join(cols) + f" | {', '.join(weights)} | {load} |")
    return "\n".join(lines)


# the thin and small classes a driving user needs most, per dataset that has them
THIN = {"camvid": ("pole", "sign", "pedestrian"), "camvid-full": ("pole", "sign", "pedestrian"),
        "synthetic-streets": ("pole", "person")}  # fmt: skip


def thin_iou(per_class_iou: dict, dataset: str) -> float | None:
    """Mean of per-class IoUs (fractions; None counts as 0) over `dataset`'s thin/small classes (THIN), or None."""
    thin = THIN.get(dataset)
    return float(np.mean([per_class_iou[k] or 0.0 for k in thin])) if thin else None


def thin_table(runs: list[dict]) -> str:
    """Mean IoU over each dataset's thin/small classes (THIN), mean ± std over seeds, per contender."""
    c = cells(runs)
    contenders = order({r["contender"] for r in runs})
    datasets = [d for d in dataset_order(runs) if d in THIN]
    if not datasets:
        return ""
    lines = ["| dataset | classes | " + " | ".join(f"`{n}`" for n in contenders) + " |",
             "| --- " * (2 + len(contenders)) + "|"]  # fmt: skip
    for d in datasets:
        row = [d, ", ".join(THIN[d])]
        for n in contenders:
            per_seed = [thin_iou(r["per_class_IoU"], d) for r in c.get((d, n), [])]
            row.append(ms(per_seed) if per_seed else "")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot(runs: list[dict], lat: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = cells(runs)
    contenders = order({r["contender"] for r in runs})
    datasets = [d for d in dataset_order(runs) if (d, "ours") in c and (d, BASELINE) in c]
    if not datasets:
        return
    curves = {n: [100 * v for v in mean_per_seed(c, n, datasets)] for n in contenders}
    contenders = [n for n in contenders if curves[n]]
    # a point needs the contender's own latency: variants of other package versions share a yaml name, not a head
    lat_of = {n: float(np.median([v[n]["median_ms"] for v in lat["latency"].values() if n in v])) for n in contenders
              if lat and any(n in v for v in lat["latency"].values())}  # fmt: skip
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for n in contenders:
        if lat_of and n not in lat_of:
            continue
        per_seed = curves[n]
        x = lat_of.get(n, next(r for r in runs if r["contender"] == n)["gflops_512x1024"])
        ax.errorbar(x, np.mean(per_seed), yerr=np.std(per_seed, ddof=1) if len(per_seed) > 1 else 0, fmt="o",
                    capsize=4, label=f"{n} ({len(per_seed)} seed{'s' if len(per_seed) > 1 else ''})")  # fmt: skip
    if lat_of:  # the axis from 0.9x to 1.1x of the fastest and slowest: a few per cent must not look like a gap
        ax.set_xlim(0.9 * min(lat_of.values()), 1.1 * max(lat_of.values()))
    load = lat and any(v["under_load"] for v in lat["latency"].values())
    ax.set_xlabel("ONNX Runtime ms at 512×1024, 2 threads" + (" (taken under load)" if load else "")
                  if lat_of else "GFLOPs at 512×1024 (latency not measured yet)")  # fmt: skip
    ax.set_ylabel(f"mean mIoU over {len(datasets)} datasets (%)" if len(datasets) > 1 else f"mIoU on {datasets[0]} (%)")
    ax.set_title("Accuracy vs latency, n scale, equal budget")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(results: Path) -> str:
    runs = load(results)
    lat = newest_latency(results)
    table, _ = main_table(runs)
    seeds = sorted({r["seed"] for r in runs})
    codes: dict[str, set] = {}
    for r in runs:
        codes.setdefault(r.get("code_sha256", "not recorded")[:12], set()).add(r["contender"])
    listed = "; ".join(f"`{k}`: {', '.join(sorted(v))}" for k, v in sorted(codes.items()))
    mixed = (f"Package sources (sha256 of the package files, by contender): {listed}. Compare runs of different "
             "sources only where the difference does not touch what they train (see the text).\n\n"
             ) if len(codes) > 1 else ""  # fmt: skip
    parts = [
        mixed
        + f"Results folder `{os.path.relpath(results, HERE.parent)}`: {len(runs)} runs, seeds {seeds}. mIoU (%) of "
        "`last.pt` by our validator at the labels' own resolution, mean ± std over seeds (the std is the seed "
        "noise of the cell); verdict 'noise' when |Δ| is within the larger of the two spreads.",
        "",
        table,
    ]
    thin = thin_table(runs)
    thin_part = (["Thin and small classes: mean IoU (%) over the classes named, mean ± std over seeds:", "", thin, ""]
                 if thin else [])  # fmt: skip
    if results.name != main_round() and not lat:  # side experiments: the accuracy tables only
        per_class = ["Per-class IoU (%), mean over seeds:", "", per_class_table(runs)]
        return "\n".join([*parts, "", *thin_part, *per_class])
    parts += [
        "",
        sanity_table(runs),
        "",
        "Every contender against the baseline, per dataset (Δ of the means over the seeds both have; 'better' or "
        "'worse' only when |Δ| exceeds the larger seed spread):",
        "",
        variants_table(runs),
        "",
        *thin_part,
        "Per-class IoU (%), mean over seeds:",
        "",
        per_class_table(runs),
        "",
        "Cost (training times are wall-clock on this shared 2-core machine, under the load shown; compare the "
        "relative column, taken on the same datasets and seeds):",
        "",
        cost_table(runs),
        "",
        "ONNX Runtime latency at 512×1024 (each model's default export, uint8 class map, 2 threads, batch 1, "
        "alternated in one process on a real satellite crop, the ratio to the baseline in brackets; the seed-0 "
        "`last.pt` where the machine that measured had "
        "it, else the architecture with the dataset's classes and random weights, column 'weights'; the load average "
        "of ~1 is the timing process itself):",
        "",
        latency_table(lat),
    ]
    return "\n".join(parts)


def write_report(results: Path, doc: Path = DOCS / "benchmarks.md", png: Path = DOCS / "benchmarks.png") -> None:
    text = render(results)
    print(text)
    md = doc.read_text()
    begin, end = (m.format(results.name) for m in MARKERS)
    if begin in md and end in md:
        head, rest = md.split(begin, 1)
        md = head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1]
        doc.write_text(md)
    else:
        print(f"\n{doc} has no {begin} ... {end} block: table printed only")
    if results.name == main_round():  # the plot of the main round is docs/benchmarks.png, others get their own
        plot(load(results), newest_latency(results), png)
    elif newest_latency(results):
        plot(load(results), newest_latency(results), png.with_name(f"{png.stem}-{results.name}.png"))
