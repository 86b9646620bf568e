"""Every difference between the supported Ultralytics releases, in one place."""

from __future__ import annotations

from types import SimpleNamespace


def fp16_enabled(args: SimpleNamespace) -> bool:
    """Half-precision inference flag: `quantize=16` on recent 8.4 releases, `half=True` before."""
    return getattr(args, "quantize", None) == 16 or bool(getattr(args, "half", False))
