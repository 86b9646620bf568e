"""Metrics, plotting and output post-processing."""

# Ultralytics first, as in `nn/__init__.py`: its import hook loads `nn.model`, which imports `utils.ops`
import ultralytics.nn.tasks  # noqa: F401
