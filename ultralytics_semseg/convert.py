"""Turn official dataset downloads into the semseg layout by linking files: nothing is copied or modified.

Command line::

    python -m ultralytics_semseg.convert cityscapes SRC [DST] [--splits train val test] [--link symlink|hardlink]
    python -m ultralytics_semseg.convert ade20k SRC [DST] [--link symlink|hardlink]

`SRC` is the folder holding Cityscapes' `leftImg8bit/` and `gtFine/`, or ADE20K's `ADEChallengeData2016/` (or that
folder itself). `DST` defaults to `SRC`. The result is `DST/images/<split>/...` and `DST/masks/<split>/...` links to
the original files (relative symlinks by default, so moving the whole tree keeps them valid) and a dataset YAML,
`DST/cityscapes.yaml` or `DST/ade20k.yaml`, whose `path:` is `DST`. A re-run keeps the links already in place; a file at
a link's place that is not a link to the same source stops the conversion before anything is written.

The packaged `cityscapes.yaml` and `ade20k.yaml` call these converters from their `download:` script, so unzipping the
official archives into `<datasets_dir>/cityscapes` or `<datasets_dir>/ade20k` is all a user has to do.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ultralytics.utils import LOGGER, TQDM

from ultralytics_semseg.cfg import DATASETS_DIR as PACKAGED_YAMLS

CITYSCAPES_SPLITS = ("train", "val", "test")
ADE20K_SPLITS = {"training": "train", "validation": "val"}
CITYSCAPES_HELP = (
    "{src} has no leftImg8bit/ folder. Cityscapes is not downloaded automatically (registration required): download "
    "leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip from https://www.cityscapes-dataset.com/downloads/ and "
    "unzip both into {src} (giving {src}/leftImg8bit and {src}/gtFine), then run this again, or convert a folder "
    "elsewhere with 'python -m ultralytics_semseg.convert cityscapes <folder>'."
)
ADE20K_HELP = (
    "ADE20K not found: expected ADEChallengeData2016/images/training in {src}, {src}/ADEChallengeData2016 or "
    "{parent}/ADEChallengeData2016. Download http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip, "
    "unzip it there and run this again, or convert a folder elsewhere with "
    "'python -m ultralytics_semseg.convert ade20k <folder>'."
)


@dataclass(frozen=True)
class Link:
    """One link to create: `dst` will point at the existing file `src` (both absolute)."""

    src: Path
    dst: Path


def convert_cityscapes(
    src: str | Path,
    dst: str | Path | None = None,
    splits: tuple[str, ...] = CITYSCAPES_SPLITS,
    link: str = "symlink",
    write_yaml: bool = True,
) -> Path:
    """Link Cityscapes' official layout into `images/` + `masks/` under `dst` and return `dst`.

    `leftImg8bit/<split>/<city>/X_leftImg8bit.png` -> `images/<split>/<city>/X_leftImg8bit.png` and
    `gtFine/<split>/<city>/X_gtFine_labelIds.png` -> `masks/<split>/<city>/X_leftImg8bit.png`. Splits whose image
    folder is absent are skipped; images without a labelIds mask are linked and reported (the dataset scan names them
    again as 'mask not found').

    Args:
        src (str | Path): Folder holding `leftImg8bit/` and `gtFine/`.
        dst (str | Path, optional): Output folder, default `src`.
        splits (tuple[str, ...]): Splits to link.
        link (str): 'symlink' (relative) or 'hardlink' (same filesystem only).
        write_yaml (bool): Write `dst/cityscapes.yaml` with `path: dst` (an existing different file is left alone).

    Returns:
        (Path): The dataset root `dst`.

    Raises:
        FileNotFoundError: If `src` does not hold the official layout (the message says what to download).
        FileExistsError: If files that are not the same links already exist where links would go.

    Examples:
        >>> root = convert_cityscapes("/data/cityscapes")  # doctest: +SKIP
        >>> # yolo semseg train data=/data/cityscapes/cityscapes.yaml
    """
    src = Path(os.path.abspath(Path(src).expanduser()))
    dst = Path(os.path.abspath(Path(dst).expanduser())) if dst else src
    if not (src / "leftImg8bit").is_dir():
        raise FileNotFoundError(CITYSCAPES_HELP.format(src=src))
    links, notes = [], []
    for split in splits:
        split_links, note = _cityscapes_split(src, dst, split)
        links += split_links
        notes += [note] if note else []
    return _finish("Cityscapes", "cityscapes", links, notes, dst, link, write_yaml)


def _cityscapes_split(src: Path, dst: Path, split: str) -> tuple[list[Link], str]:
    """Links of one Cityscapes split and a note about missing masks (or a missing split)."""
    img_dir = src / "leftImg8bit" / split
    images = sorted(img_dir.glob("*/*_leftImg8bit.png"))
    if not images:
        return [], f"{split}: no images at {img_dir}/<city>/*_leftImg8bit.png, split skipped"
    links, missing = [], []
    for im in images:
        rel = im.relative_to(src / "leftImg8bit")
        links.append(Link(im, dst / "images" / rel))
        gt = src / "gtFine" / split / im.parent.name / im.name.replace("_leftImg8bit.png", "_gtFine_labelIds.png")
        if gt.is_file():
            links.append(Link(gt, dst / "masks" / rel))
        else:
            missing.append(gt)
    note = (
        f"{split}: {len(missing)} of {len(images)} images have no labelIds mask, e.g. {missing[0]}" if missing else ""
    )
    return links, note


def find_ade20k_root(src: str | Path) -> Path:
    """The `ADEChallengeData2016` folder: `src` itself, inside it, or beside it.

    Raises:
        FileNotFoundError: Saying where it was looked for and where to download it.
    """
    src = Path(os.path.abspath(Path(src).expanduser()))
    for root in (src, src / "ADEChallengeData2016", src.parent / "ADEChallengeData2016"):
        if (root / "images" / "training").is_dir():
            return root
    raise FileNotFoundError(ADE20K_HELP.format(src=src, parent=src.parent))


def convert_ade20k(
    src: str | Path, dst: str | Path | None = None, link: str = "symlink", write_yaml: bool = True
) -> Path:
    """Link ADE20K's official layout into `images/` + `masks/` under `dst` and return `dst`.

    `ADEChallengeData2016/images/{training,validation}/X.jpg` -> `images/{train,val}/X.jpg` and
    `ADEChallengeData2016/annotations/<split>/X.png` -> `masks/{train,val}/X.png`. The masks keep ADE's raw ids
    (0 = other, 1..150); `ade20k.yaml`'s `label_mapping` makes 0 ignore and shifts 1..150 to 0..149.

    Args:
        src (str | Path): `ADEChallengeData2016`, or a folder holding it (or next to it).
        dst (str | Path, optional): Output folder, default `src`.
        link (str): 'symlink' (relative) or 'hardlink' (same filesystem only).
        write_yaml (bool): Write `dst/ade20k.yaml` with `path: dst` (an existing different file is left alone).

    Returns:
        (Path): The dataset root `dst`.

    Examples:
        >>> root = convert_ade20k("/data/ADEChallengeData2016", "/data/ade20k")  # doctest: +SKIP
        >>> # yolo semseg train data=/data/ade20k/ade20k.yaml
    """
    root = find_ade20k_root(src)
    dst = Path(os.path.abspath(Path(dst).expanduser())) if dst else Path(os.path.abspath(Path(src).expanduser()))
    links, notes = [], []
    for official, split in ADE20K_SPLITS.items():
        images = sorted((root / "images" / official).glob("*.jpg"))
        if not images:
            notes.append(f"{split}: no images at {root / 'images' / official}/*.jpg, split skipped")
        missing = []
        for im in images:
            links.append(Link(im, dst / "images" / split / im.name))
            mask = root / "annotations" / official / f"{im.stem}.png"
            if mask.is_file():
                links.append(Link(mask, dst / "masks" / split / mask.name))
            else:
                missing.append(mask)
        if missing:
            notes.append(f"{split}: {len(missing)} of {len(images)} images have no annotation, e.g. {missing[0]}")
    return _finish("ADE20K", "ade20k", links, notes, dst, link, write_yaml)


def _finish(title: str, name: str, links: list[Link], notes: list[str], dst: Path, link: str, write: bool) -> Path:
    """Create the links, write the YAML and log what was done."""
    if not links:
        raise FileNotFoundError(f"{title}: nothing to link. " + "; ".join(notes))
    made = link_files(links, dst, link=link, desc=f"{title}: linking into {dst}")
    for note in notes:  # a split that is not there is fine (e.g. no test download); a missing mask is not
        (LOGGER.info if note.endswith("split skipped") else LOGGER.warning)(f"{title}: {note}")
    n_img = sum(1 for x in links if x.dst.relative_to(dst).parts[0] == "images")
    LOGGER.info(
        f"{title}: {n_img} images and {len(links) - n_img} masks linked into {dst} ({made} new {link}s, "
        f"{len(links) - made} already in place)"
    )
    if write:
        yaml_file = write_dataset_yaml(name, dst)
        LOGGER.info(f"{title}: train with 'yolo semseg train data={yaml_file}'")
    return dst


def link_files(links: list[Link], root: Path, link: str = "symlink", desc: str = "Linking") -> int:
    """Create all links (with a progress bar) after checking that none would replace a different file.

    Returns:
        (int): Number of links created; links already in place are kept.

    Examples:
        >>> link_files([Link(Path("/data/a.png"), Path("/out/images/a.png"))], Path("/out"))  # doctest: +SKIP
        1

    Raises:
        FileExistsError: Listing the conflicting paths; nothing is created then.
        ValueError: For an unknown `link` mode.
    """
    if link not in {"symlink", "hardlink"}:
        raise ValueError(f"link='{link}' must be 'symlink' or 'hardlink'")
    conflicts = [x.dst for x in links if os.path.lexists(x.dst) and not _same_file(x)]
    if conflicts:
        shown = "\n  ".join(map(str, conflicts[:5]))
        raise FileExistsError(
            f"{len(conflicts)} paths under {root} already exist and are not links to the files they would link, "
            f"e.g.\n  {shown}\nNothing was changed. Move them away or choose another destination folder."
        )
    made = 0
    for x in TQDM(links, desc=desc, total=len(links)):
        if os.path.lexists(x.dst):
            continue
        x.dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            if link == "symlink":
                os.symlink(os.path.relpath(x.src, x.dst.parent), x.dst)
            else:
                os.link(x.src, x.dst)
        except OSError as e:
            hint = " (hard links need one filesystem: try --link symlink)" if link == "hardlink" else ""
            raise OSError(f"could not {link} {x.dst} -> {x.src}: {e}{hint}") from e
        made += 1
    return made


def _same_file(x: Link) -> bool:
    """True if `x.dst` already is (a link to) `x.src`."""
    try:
        return os.path.isfile(x.dst) and os.path.samefile(x.dst, x.src)
    except OSError:
        return False


def write_dataset_yaml(name: str, dst: Path) -> Path:
    """Write the packaged `<name>.yaml` with `path: dst` and no `download:` script to `dst/<name>.yaml`.

    An existing file with other content is left unchanged (with a warning): it is the user's.
    """
    text = (PACKAGED_YAMLS / f"{name}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^path: .*$", f"path: {json.dumps(dst.as_posix())} # dataset root", text, count=1)
    text = text[: text.index("\n# Links the official")] + "\n"
    out = dst / f"{name}.yaml"
    if out.exists() and out.read_text(encoding="utf-8") != text:
        LOGGER.warning(f"{out} exists with other content and was left unchanged; its 'path:' should be {dst}")
    else:
        out.write_text(text, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line entry point: `python -m ultralytics_semseg.convert {cityscapes,ade20k} SRC [DST]`."""
    parser = argparse.ArgumentParser(
        prog="python -m ultralytics_semseg.convert",
        description="Link an official dataset download into the semseg layout (images/ + masks/) and write its YAML.",
    )
    sub = parser.add_subparsers(dest="dataset", required=True)
    for name, what in (("cityscapes", "leftImg8bit/ and gtFine/"), ("ade20k", "ADEChallengeData2016/ (or it)")):
        p = sub.add_parser(name, help=f"SRC holds {what}")
        p.add_argument("src", type=Path, help=f"folder holding {what}")
        p.add_argument("dst", type=Path, nargs="?", default=None, help="output folder (default: SRC)")
        p.add_argument("--link", choices=("symlink", "hardlink"), default="symlink")
        if name == "cityscapes":
            p.add_argument("--splits", nargs="+", default=list(CITYSCAPES_SPLITS))
    a = parser.parse_args(argv)
    try:
        if a.dataset == "cityscapes":
            convert_cityscapes(a.src, a.dst, tuple(a.splits), link=a.link)
        else:
            convert_ade20k(a.src, a.dst, link=a.link)
    except (FileNotFoundError, FileExistsError, OSError) as e:
        parser.exit(1, f"error: {e}\n")


if __name__ == "__main__":
    main()
