"""The semseg model, its decoder head and its loss."""

# Ultralytics first: importing it runs the plug-in's hook, which imports `nn.model` and with it this package's
# modules; started from here, none of them is half-initialised when the hook needs it (no circular import)
import ultralytics.nn.tasks  # noqa: F401
