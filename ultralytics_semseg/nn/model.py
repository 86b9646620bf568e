"""SemSegModel: a YOLO backbone and neck from YAML rows plus the SemSegHead decoder."""

from __future__ import annotations

from copy import deepcopy

import torch
from torch import nn
from ultralytics.nn.tasks import BaseModel, parse_model, yaml_model_load
from ultralytics.utils import LOGGER
from ultralytics.utils.ops import make_divisible
from ultralytics.utils.torch_utils import initialize_weights

from ultralytics_semseg.cfg import HEAD_NAME, resolve_model_yaml
from ultralytics_semseg.nn.head import SemSegHead
from ultralytics_semseg.nn.loss import SemSegLoss

__all__ = ("SemSegModel",)


def _scale_of(d: dict) -> tuple[float, float]:
    """(width multiple, max channels) of the YAML's selected scale, as parse_model applies them."""
    scales = d.get("scales")
    if not scales:
        return d.get("width_multiple", 1.0), float("inf")
    _, width, max_channels = scales[d.get("scale") or next(iter(scales))]
    return width, max_channels


@torch.no_grad()
def _probe_channels(layers: nn.Sequential, sources: list[int], ch: int) -> list[int]:
    """Channels of the `sources` layer outputs, read from one small forward pass through the body."""
    y, x = [], torch.zeros(1, ch, 64, 64)
    training = layers.training
    layers.eval()
    for m in layers:
        if m.f != -1:
            x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
        x = m(x)
        y.append(x)
    layers.train(training)
    return [y[i].shape[1] for i in sources]


class SemSegModel(BaseModel):
    """YOLO semantic segmentation model: per-pixel class logits at stride 4.

    The body (backbone and neck rows) is built by Ultralytics' `parse_model`; the last YAML row, `SemSegHead`, is built
    here because `parse_model` cannot size an unknown multi-input head. `stride` is the input alignment stride (32), the
    logits' stride is `model[-1].out_stride` (4).

    Args:
        cfg (str | dict): Model YAML path or bare name (e.g. 'yolo11n-semseg.yaml'), or a YAML dict.
        ch (int): Input channels.
        nc (int, optional): Number of classes; overrides the YAML.
        verbose (bool): Print the layer table and model info.

    Examples:
        >>> model = SemSegModel("yolo11n-semseg.yaml", nc=8, verbose=False)
        >>> model.eval()(torch.zeros(1, 3, 128, 256)).shape
        torch.Size([1, 8, 32, 64])
    """

    def __init__(self, cfg: str | dict = "yolo11n-semseg.yaml", ch: int = 3, nc: int | None = None, verbose=True):
        super().__init__()
        self.yaml = cfg if isinstance(cfg, dict) else yaml_model_load(resolve_model_yaml(cfg))
        self.yaml["channels"] = ch
        if nc and nc != self.yaml["nc"]:
            LOGGER.info(f"Overriding model.yaml nc={self.yaml['nc']} with nc={nc}")
            self.yaml["nc"] = nc
        *body_rows, head_row = self.yaml["head"]
        sources, _, module, args = head_row
        if module != HEAD_NAME:
            raise ValueError(f"the last head row of a semseg model YAML must be {HEAD_NAME}, got '{module}'")
        body, save = parse_model(deepcopy({**self.yaml, "head": body_rows}), ch=ch, verbose=verbose)
        self.model, self.save = self._attach_head(body, save, sources, args, ch, verbose)
        self.names = {i: f"{i}" for i in range(self.yaml["nc"])}
        self.inplace = self.yaml.get("inplace", True)
        self.stride = torch.tensor([32.0])  # inputs must be multiples of the deepest level's stride
        initialize_weights(self)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                # PyTorch's default 0.1, as in segmentation libraries: Ultralytics' 0.03 suits detection's long
                # schedules but leaves eval-mode statistics stale for the first ~100 iterations of a short run
                m.momentum = 0.1
        if verbose:
            self.info()
            LOGGER.info("")

    def _attach_head(self, body: nn.Sequential, save: list, sources: list, args: list, ch: int, verbose: bool):
        """Build SemSegHead for the body's output channels and append it as the last layer."""
        width, max_channels = _scale_of(self.yaml)
        c = make_divisible(min(args[1], max_channels) * width, 8) if len(args) > 1 else 64
        aux = bool(args[2]) if len(args) > 2 else True
        head = SemSegHead(self.yaml["nc"], _probe_channels(body, sources, ch), c=max(c, 32), aux=aux)
        head.i, head.f, head.type = len(body), sources, HEAD_NAME
        head.np = sum(p.numel() for p in head.parameters())
        if verbose:
            LOGGER.info(
                f"{head.i:>3}{sources!s:>20}{1:>3}{head.np:10.0f}  {HEAD_NAME:<45}{[self.yaml['nc'], c, aux]!s}"
            )
        return nn.Sequential(*body, head), sorted(set(save) | {x % head.i for x in sources})

    def init_criterion(self) -> SemSegLoss:
        """Cross-entropy with ignore 255 plus the auxiliary loss (weight from the YAML key `aux_weight`)."""
        return SemSegLoss(aux_weight=self.yaml.get("aux_weight", 0.4))


def _allow_safe_load() -> None:
    """Allow-list our classes for Ultralytics' restricted checkpoint loading (ULTRALYTICS_SAFE_LOAD=1, torch>=2.4)."""
    from ultralytics_semseg.nn.head import SemSegAuxHead

    if hasattr(torch.serialization, "add_safe_globals"):
        torch.serialization.add_safe_globals([SemSegModel, SemSegHead, SemSegAuxHead, SemSegLoss])


_allow_safe_load()
