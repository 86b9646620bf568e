"""ultralytics-semseg: a semantic segmentation task (`semseg`) for Ultralytics YOLO.

Importing this package is cheap (no torch or ultralytics import). It installs the import hook
(`_ultralytics_semseg_hook`, which the installed `.pth` file also loads at interpreter start) that registers the
`semseg` task with Ultralytics the moment Ultralytics itself is imported; the heavy classes load lazily.

Examples:
    >>> from ultralytics import YOLO
    >>> model = YOLO("yolo11n-semseg.yaml")
    >>> model.train(data="synthetic-streets.yaml", epochs=3, imgsz=256)  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "SemSegModel": "ultralytics_semseg.nn.model",
    "SemSegHead": "ultralytics_semseg.nn.head",
    "SemSegLoss": "ultralytics_semseg.nn.loss",
    "SemSegTrainer": "ultralytics_semseg.models.train",
    "SemSegValidator": "ultralytics_semseg.models.val",
    "SemSegPredictor": "ultralytics_semseg.models.predict",
    "SemSegResults": "ultralytics_semseg.engine.results",
    "SemSegMetrics": "ultralytics_semseg.utils.metrics",
}

__all__ = ("__version__", "register", *_LAZY)


def register() -> None:
    """Register the `semseg` task with Ultralytics (idempotent; also done automatically on import)."""
    import _ultralytics_semseg_hook

    _ultralytics_semseg_hook.install()


def __getattr__(name: str):
    """Import public classes on first use so that `import ultralytics_semseg` stays free of torch."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ultralytics_semseg' has no attribute '{name}'")


register()
