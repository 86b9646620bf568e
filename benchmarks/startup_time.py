"""What the plug-in's `.pth` start-up hook adds to every Python start, before and after a change.

Three throw-away venvs (no pip, stdlib only) differ only in their site-packages: `none` has no plug-in, `before` has
the plug-in's `.pth` file and source tree of a git revision (default: the last one with the old `_bootstrap.py`
hook), `after` those of the working tree, laid out like an editable install (copies in a temporary folder, so that
`.pyc` files get written as `pip install` writes them, even under PYTHONDONTWRITEBYTECODE). Each venv runs
`python -X importtime -c pass` in turn, `--runs` times round-robin, and the table shows the median cumulative import
time of `site` (which processes the `.pth` files) and what it adds to `none`.

Examples:
    $ python benchmarks/startup_time.py
    $ python benchmarks/startup_time.py --before 7709215 --runs 31
    $ python benchmarks/startup_time.py --out benchmarks/results/startup_time/DATE.json  # + raw timings, load average
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PTH = "ultralytics_semseg/_plugin/ultralytics_semseg.pth"


def make_venv(path: Path, source: Path | None) -> Path:
    """A venv without pip whose site-packages holds the plug-in's .pth and a path line to `source` (if any)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = next((path / "lib").glob("python*/site-packages"))
    if source is not None:
        (site / "_editable_impl_ultralytics_semseg.pth").write_text(f"{source}\n")
        (site / "ultralytics_semseg.pth").write_text((source / PTH).read_text())
    return path / "bin" / "python"


def site_ms(python: Path) -> tuple[float, list[str]]:
    """Cumulative import time of `site` in ms, and the modules the .pth files imported (top level under site)."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}}
    cmd = [str(python), "-X", "importtime", "-c", "pass"]
    err = subprocess.run(cmd, capture_output=True, text=True, env=env).stderr
    rows = [re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", x) for x in err.splitlines()]
    rows = [r for r in rows if r]
    site = next(int(r[2]) for r in rows if r[4] == "site" and r[3] == " ")
    return site / 1000, sorted({r[4] for r in rows if len(r[3]) == 3})


def before_revision() -> str:
    """The parent of the commit that removed `_bootstrap.py` (the old hook), else HEAD."""
    out = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--diff-filter=D", "--", "ultralytics_semseg/_bootstrap.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{out}^" if out else "HEAD"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default=None, help="git revision of the 'before' hook (default: the old hook)")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--out", type=Path, default=None, help="write every timing and the load average to this JSON")
    args = ap.parse_args()
    load_before = os.getloadavg()
    rev = args.before or before_revision()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old = tmp / "src-before"
        old.mkdir()
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        new = tmp / "src-after"
        shutil.copytree(ROOT / "ultralytics_semseg", new / "ultralytics_semseg", ignore=shutil.ignore_patterns("*.pyc"))
        shutil.copy(ROOT / "_ultralytics_semseg_hook.py", new)
        venvs = {
            "none": make_venv(tmp / "none", None),
            f"before ({rev[:12]})": make_venv(tmp / "before", old),
            "after (working tree)": make_venv(tmp / "after", new),
        }
        for python in venvs.values():  # warm up: write .pyc files
            site_ms(python)
        times = {k: [] for k in venvs}
        imported = {}
        for _ in range(args.runs):
            for k, python in venvs.items():
                t, mods = site_ms(python)
                times[k].append(t)
                imported[k] = mods
    base = statistics.median(times["none"])
    py = sys.version.split()[0]
    print(f"`site` import time, median of {args.runs} runs of `python -X importtime -c pass` (Python {py})")
    print(f"{'site-packages':<28}{'site ms':>9}{'added ms':>10}  modules imported beyond 'none' (and their imports)")
    for k, ts in times.items():
        med = statistics.median(ts)
        print(
            f"{k:<28}{med:9.2f}{med - base:10.2f}  {', '.join(sorted(set(imported[k]) - set(imported['none']))) or '-'}"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "script": "benchmarks/startup_time.py",
            "python": py,
            "before_revision": rev,
            "runs": args.runs,
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "site_ms_median": {k: statistics.median(ts) for k, ts in times.items()},
            "added_ms_median": {k: statistics.median(ts) - base for k, ts in times.items()},
            "site_ms": times,
            "imported_beyond_none": {k: sorted(set(v) - set(imported["none"])) for k, v in imported.items()},
        }
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"raw output: {args.out}")


if __name__ == "__main__":
    main()
