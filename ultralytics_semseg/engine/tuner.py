"""Hyperparameter tuning of semseg models: Ultralytics' own tuners with the task's defaults and search space.

`model.tune(...)` on a semseg model lands here (see `registry.patch_model`). Two things differ from other tasks:

* **Defaults.** Ultralytics' `Tuner` builds its arguments from the detection defaults and hands every one of them to
  each trial explicitly, so the semseg trainer could not apply `cfg/default.yaml` underneath (trials trained with
  `nbs=64`, `mosaic=1.0`, `lr0=0.01`, ...). Here the task defaults go under the user's arguments first.
* **Search space.** `SEMSEG_SPACE` holds the keys the semseg trainer, loss and augmentation read (no box, dfl,
  mosaic ...).

Each trial runs in a subprocess, `python -m ultralytics.cfg.__init__ train task=semseg ...`. For that command the
import hook runs the imported, patched module's `entrypoint` (`registry.cfg_main_code`), like the `yolo` script, so
the trial knows `task=semseg` (why: docs/plugin.md, "Start-up hook").

Ray Tune (`use_ray=True`) trains in-process in its workers, where the trainer applies the task defaults itself; it only
needs the semseg search space (`pip install "ray[tune]"`).

Examples:
    >>> from ultralytics import YOLO
    >>> model = YOLO("yolo11n-semseg.yaml")
    >>> model.tune(data="synthetic-streets.yaml", epochs=10, iterations=30, imgsz=256)  # doctest: +SKIP
    >>> model.tune(data="synthetic-streets.yaml", epochs=10, iterations=8, use_ray=True)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

# key: (min, max[, gain]) — the keys the semseg trainer, loss and augmentation actually read (no box/dfl/mosaic ...)
SEMSEG_SPACE: dict[str, tuple] = {
    "lr0": (1e-4, 1e-2),  # AdamW initial learning rate (task default 0.002)
    "lrf": (0.01, 1.0),  # final lr fraction
    "momentum": (0.7, 0.98, 0.3),  # AdamW beta1
    "weight_decay": (0.0, 0.001),
    "warmup_epochs": (0.0, 5.0),
    "warmup_momentum": (0.0, 0.95),
    "cls_pw": (0.0, 1.0),  # class-weight power of the cross-entropy (ENet weights; task default 1.0)
    "dice": (0.0, 2.0),  # weight of the soft Dice term (task default 1.0)
    "rare_class_sampling": (0.01, 1.0),  # rare-class sampling temperature (task default 1.0)
    "scale": (0.0, 0.9),  # random resize range of the resize + crop augmentation
    "fliplr": (0.0, 1.0),
    "hsv_h": (0.0, 0.1),
    "hsv_s": (0.0, 0.9),
    "hsv_v": (0.0, 0.9),
    "contrast": (0.0, 0.5),  # contrast jitter
}


def ray_space(space: dict[str, tuple] | None = None) -> dict:
    """`SEMSEG_SPACE` (or `space`) as Ray Tune uniform distributions."""
    from ray import tune

    return {k: tune.uniform(*v[:2]) for k, v in (space or SEMSEG_SPACE).items()}


def tune(model, use_ray: bool = False, iterations: int = 300, *args: Any, **kwargs: Any):
    """`Model.tune` for semseg models: Ultralytics' Tuner or Ray Tune with the semseg defaults and search space.

    Args:
        model (ultralytics.engine.model.Model): A semseg `YOLO` model (PyTorch weights or YAML).
        use_ray (bool): Use Ray Tune (`pip install "ray[tune]"`) instead of Ultralytics' evolutionary tuner.
        iterations (int): Number of trials.
        *args (Any): Positional arguments of Ray Tune's `run_ray_tune` (space, grace_period, gpu_per_trial).
        **kwargs (Any): Training arguments and tuner options (`space=` replaces `SEMSEG_SPACE`).

    Returns:
        (ray.tune.ResultGrid | None): Ray's result grid with `use_ray=True`, else None (results are in
            `<tune_dir>/tune_results.ndjson` and `best_hyperparameters.yaml`).
    """
    from ultralytics_semseg.cfg import load_defaults, resolve_data_yaml

    model._check_is_pytorch_model()
    if "data" in kwargs:
        kwargs["data"] = resolve_data_yaml(kwargs["data"])
    if use_ray:
        from ultralytics.utils.tuner import run_ray_tune

        if not args and kwargs.get("space") is None:
            kwargs["space"] = ray_space()
        return run_ray_tune(model, *args, iterations=iterations, **kwargs)
    if args:
        raise TypeError(f"Positional arguments {args} require use_ray=True, pass Tuner options as keywords.")
    from ultralytics.engine.tuner import Tuner

    space = kwargs.pop("space", None) or dict(SEMSEG_SPACE)
    tuner_args = {**load_defaults(), **model.overrides, **kwargs, "mode": "train", "space": space}
    # model=: every trial starts from the caller's model (weights included), not a rebuild from args.model
    return Tuner(args=tuner_args, _callbacks=model.callbacks, model=model.model)(iterations=iterations)
