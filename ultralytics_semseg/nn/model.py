"""SemSegModel: a YOLO backbone and neck from YAML rows plus the SemSegHead decoder."""

from __future__ import annotations

from copy import deepcopy

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.nn.tasks import BaseModel, parse_model, yaml_model_load
from ultralytics.utils import LOGGER
from ultralytics.utils.ops import make_divisible
from ultralytics.utils.torch_utils import initialize_weights

from ultralytics_semseg.cfg import HEAD_NAME, is_packaged_model, load_model_yaml, resolve_model_yaml
from ultralytics_semseg.constants import PAD_VALUE, STRIDE
from ultralytics_semseg.nn.head import SemSegHead
from ultralytics_semseg.nn.loss import SemSegLoss

__all__ = ("SemSegModel",)

MIN_HEAD_WIDTH = 32  # floor of the decoder width, whatever a YAML's width multiple makes of its channel argument


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


def configure_inference(model, args) -> None:
    """Copy the sliding-window and TTA settings of validator/predictor `args` onto a PyTorch SemSegModel."""
    if not isinstance(model, SemSegModel):
        return  # exported models run whole images
    crop = getattr(args, "slide_window", None)
    if crop:
        gs = int(model.stride.max())
        crop = [int(c) for c in (crop if isinstance(crop, (list, tuple)) else (crop, crop))]
        if any(c % gs for c in crop):
            raise ValueError(f"slide_window={crop} must be multiples of {gs} (the model's stride)")
        stride = getattr(args, "slide_stride", None) or [c * 2 // 3 // gs * gs or gs for c in crop]
        stride = [int(s) for s in (stride if isinstance(stride, (list, tuple)) else (stride, stride))]
        if any(s % gs or s <= 0 for s in stride):
            raise ValueError(f"slide_stride={stride} must be positive multiples of {gs}")
        model.slide_window, model.slide_stride = crop, stride
    else:
        model.slide_window = None
    model.tta_scales = tuple(getattr(args, "tta_scales", None) or SemSegModel.tta_scales)


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

    slide_window = None  # (h, w) window for sliding-window inference, set by configure_inference
    slide_stride = None
    tta_scales = (0.75, 1.0, 1.25)  # input scales of test-time augmentation (each also flipped)
    pad_by_concat = False  # export: pad inputs to the stride by Concat instead of Pad (dynamic OpenVINO graphs)

    def __init__(self, cfg: str | dict = "yolo11n-semseg.yaml", ch: int = 3, nc: int | None = None, verbose=True):
        """Build the body with Ultralytics' `parse_model`, then the SemSegHead sized for the body's output channels."""
        super().__init__()
        if not isinstance(cfg, dict):
            cfg = resolve_model_yaml(cfg)
            cfg = load_model_yaml(cfg) if is_packaged_model(cfg) else yaml_model_load(cfg)
        self.yaml = cfg
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
        self.stride = torch.tensor([float(STRIDE)])  # inputs must be multiples of the deepest level's stride
        initialize_weights(self)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                # PyTorch's default 0.1, as in segmentation libraries: Ultralytics' 0.03 suits detection's long
                # schedules, but its running statistics lag the weights long enough to spoil short runs' eval scores
                m.momentum = 0.1
        if verbose:
            self.info()
            LOGGER.info("")

    def _attach_head(self, body: nn.Sequential, save: list, sources: list, args: list, ch: int, verbose: bool):
        """Build SemSegHead for the body's output channels and append it as the last layer."""
        width, max_channels = _scale_of(self.yaml)
        c = make_divisible(min(args[1], max_channels) * width, 8) if len(args) > 1 else 64
        aux = bool(args[2]) if len(args) > 2 else True
        head = SemSegHead(self.yaml["nc"], _probe_channels(body, sources, ch), c=max(c, MIN_HEAD_WIDTH), aux=aux)
        head.i, head.f, head.type = len(body), sources, HEAD_NAME
        head.np = sum(p.numel() for p in head.parameters())
        if verbose:
            LOGGER.info(
                f"{head.i:>3}{sources!s:>20}{1:>3}{head.np:10.0f}  {HEAD_NAME:<45}{[self.yaml['nc'], c, aux]!s}"
            )
        return nn.Sequential(*body, head), sorted(set(save) | {x % head.i for x in sources})

    def predict(self, x, profile=False, augment=False, embed=None):
        """Logits at stride 4; with `augment` flip + multi-scale TTA, with `slide_window` sliding-window inference."""
        if profile or embed:
            return super().predict(x, profile=profile, augment=augment, embed=embed)
        if self.model[-1].exporting:
            return self._predict_export(x)
        if self.slide_window:
            return self._predict_slide(x, augment)
        return self._predict_augment(x) if augment else self._predict_once(x)

    def _predict_export(self, x: torch.Tensor):
        """Exported graphs take any input size: pad to a multiple of the stride inside the graph, crop outputs back."""
        h, w = x.shape[2:]
        gs, head = STRIDE, self.model[-1]  # not self.stride: turning a tensor into an int makes the tracer warn
        pad_w, pad_h = (gs - w % gs) % gs, (gs - h % gs) % gs
        if self.pad_by_concat:  # grey columns, then rows, joined by Concat: OpenVINO's Pad of dynamic size is slow
            b, c = x.shape[:2]
            x = torch.cat((x, torch.full((b, c, h, pad_w), PAD_VALUE / 255, dtype=x.dtype, device=x.device)), 3)
            x = torch.cat((x, torch.full((b, c, pad_h, w + pad_w), PAD_VALUE / 255, dtype=x.dtype, device=x.device)), 2)
        else:
            x = F.pad(x, (0, pad_w, 0, pad_h), value=PAD_VALUE / 255)
        head.export_size = (h, w)  # the head crops (before its class-map cast: TensorRT takes uint8 only as output)
        try:
            return self._predict_once(x)
        finally:
            head.export_size = None

    def _predict_augment(self, x: torch.Tensor) -> torch.Tensor:
        """Average softmax probabilities over horizontal flips and `tta_scales`; return log-probabilities.

        Probabilities are averaged in float32 and floored at the smallest normal float32 before the log, then cast to
        the logits' dtype: a probability that underflows to 0 (an FP16 model does so at a logit gap of about 17) would
        give -inf, which bilinear upsampling turns into NaN, and argmax picks NaN.
        """
        gs, size = int(self.stride.max()), [d // self.model[-1].out_stride for d in x.shape[2:]]
        probs, dtype = 0, x.dtype
        for s in self.tta_scales:
            xs = x if s == 1 else F.interpolate(x, size=[max(gs, round(d * s / gs) * gs) for d in x.shape[2:]],
                                                mode="bilinear", align_corners=False)  # fmt: skip
            for flip in (False, True):
                y = self._predict_once(xs.flip(-1) if flip else xs)
                dtype = y.dtype
                y = (y.flip(-1) if flip else y).float()
                y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
                probs = probs + y.softmax(1)
        probs = probs / (2 * len(self.tta_scales))
        return probs.clamp_min(torch.finfo(torch.float32).tiny).log().to(dtype)

    def _predict_slide(self, x: torch.Tensor, augment: bool = False) -> torch.Tensor:
        """Run overlapping windows of `slide_window` over the input and average the logits where they overlap."""
        h, w = x.shape[2:]
        (ch, cw), (sh, sw), r = self.slide_window, self.slide_stride, self.model[-1].out_stride
        ch, cw = min(ch, h), min(cw, w)
        ys = sorted({min(i * sh, h - ch) for i in range(max(h - ch + sh - 1, 0) // sh + 1)})
        xs = sorted({min(j * sw, w - cw) for j in range(max(w - cw + sw - 1, 0) // sw + 1)})
        logits = count = None
        for y0 in ys:
            for x0 in xs:
                crop = x[..., y0 : y0 + ch, x0 : x0 + cw]
                out = self._predict_augment(crop) if augment else self._predict_once(crop)
                if logits is None:
                    logits = out.new_zeros((*out.shape[:2], h // r, w // r))
                    count = out.new_zeros((1, 1, h // r, w // r))
                logits[..., y0 // r : (y0 + ch) // r, x0 // r : (x0 + cw) // r] += out
                count[..., y0 // r : (y0 + ch) // r, x0 // r : (x0 + cw) // r] += 1
        return logits / count

    def init_criterion(self) -> SemSegLoss:
        """Cross-entropy with ignore (255) plus the auxiliary loss, weight from the YAML key `aux_weight`.

        Both terms are weighted by `class_weights` when the trainer has set them (`cls_pw > 0`), and get a soft Dice
        term weighted by the training argument `dice` (the trainer's `args`, a dict on a loaded checkpoint).
        """
        weights = getattr(self, "class_weights", None)
        args = getattr(self, "args", None)
        dice = args.get("dice") if isinstance(args, dict) else getattr(args, "dice", None)
        return SemSegLoss(aux_weight=self.yaml.get("aux_weight", 0.4), class_weights=weights, dice=dice or 0.0)


def _allow_safe_load() -> None:
    """Allow-list our classes for Ultralytics' restricted checkpoint loading (ULTRALYTICS_SAFE_LOAD=1, torch>=2.4)."""
    from ultralytics_semseg.nn.head import SemSegAuxHead

    if hasattr(torch.serialization, "add_safe_globals"):
        torch.serialization.add_safe_globals([SemSegModel, SemSegHead, SemSegAuxHead, SemSegLoss])


_allow_safe_load()
