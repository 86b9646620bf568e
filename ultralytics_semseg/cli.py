"""`yolo-semseg` / `python -m ultralytics_semseg`: Ultralytics' own `yolo` entrypoint with the plug-in registered.

The stock `yolo` command already knows `semseg` when the package is installed (through its `.pth` hook); this entry
point also works where `.pth` files are not processed (e.g. `python -S`, some embedded interpreters).

Examples:
    $ python -m ultralytics_semseg semseg train data=synthetic-streets.yaml epochs=3 imgsz=256
    $ yolo-semseg semseg predict model=runs/semseg/train/weights/best.pt source=street.jpg
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Register the task, then hand the arguments to `ultralytics.cfg.entrypoint`."""
    import ultralytics_semseg

    ultralytics_semseg.register()
    import ultralytics.cfg  # the import hook adds `semseg` to its task tables
    import ultralytics.models.yolo.model  # noqa: F401  (and to YOLO's task map)

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    ultralytics.cfg.entrypoint()


if __name__ == "__main__":
    main()
