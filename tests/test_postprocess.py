"""The predictor's class maps stay exactly the reference: logits bilinear to the letterboxed input, padding cut,
bilinear to the original size, then the first maximum over classes (as `torch.argmax`)."""

from __future__ import annotations

import cv2
import pytest
import torch
import torch.nn.functional as F
from ultralytics import YOLO  # first: importing ultralytics_semseg.utils.ops before it breaks the plug-in (circular)
from ultralytics.utils import ASSETS
from ultralytics.utils.ops import scale_masks

from ultralytics_semseg.cfg import WEIGHTS_DIR
from ultralytics_semseg.utils.ops import argmax_classes, postprocess


def reference(logits: torch.Tensor, input_hw, ori_hw, ratio_pad=None) -> torch.Tensor:
    """The class map as the task has always defined it, from PyTorch and Ultralytics primitives only."""
    x = logits[None].float().contiguous(memory_format=torch.channels_last)
    x = F.interpolate(x, size=tuple(input_hw), mode="bilinear", align_corners=False)
    x = scale_masks(x, tuple(ori_hw), ratio_pad=ratio_pad)
    return torch.argmax(x, 1)[0].to(torch.uint8)


@pytest.mark.parametrize("nc", [2, 14, 19])
def test_ties_go_to_the_first_class(nc):
    """Integer logits on a coarse grid make exact ties after interpolation; the first class wins, as argmax."""
    g = torch.Generator().manual_seed(nc)
    logits = torch.randint(0, 3, (1, nc, 12, 10), generator=g).float()
    logits = logits.contiguous(memory_format=torch.channels_last)
    up = F.interpolate(logits, size=(97, 83), mode="bilinear", align_corners=False)
    assert (up.sort(1, descending=True).values[:, 0] == up.sort(1, descending=True).values[:, 1]).any()  # ties
    assert torch.equal(argmax_classes(up), torch.argmax(up, 1).to(torch.uint8))
    assert torch.equal(argmax_classes(up.contiguous()), torch.argmax(up, 1).to(torch.uint8))


@pytest.mark.parametrize("ori_hw, input_hw, ratio_pad", [
    ((128, 256), (128, 256), None),  # no resize
    ((1080, 810), (640, 480), ((640 / 1080, 640 / 1080), (0.0, 0.0))),  # bus.jpg at 640, minimal letterbox
    ((1080, 810), (640, 640), ((640 / 1080, 640 / 1080), (80.0, 0.0))),  # square letterbox: padding cut
    ((720, 1280), (384, 640), ((0.5, 0.5), (0.0, 12.0))),  # odd padding, downscale
    ((100, 150), (256, 384), ((2.56, 2.56), (0.0, 0.0))),  # upscale
])  # fmt: skip
def test_postprocess_equals_reference(ori_hw, input_hw, ratio_pad):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 14, input_hw[0] // 4, input_hw[1] // 4, generator=g) * 4
    out = postprocess(logits, input_hw, [ori_hw] * 2, [ratio_pad] * 2)
    for x, o in zip(logits, out):
        assert o.dtype == torch.uint8 and tuple(o.shape) == ori_hw
        assert torch.equal(o, reference(x, input_hw, ori_hw, ratio_pad))


@pytest.mark.parametrize("imgsz, rect", [(320, True), (640, True), (512, False)])
def test_predict_on_photos_equals_reference(imgsz, rect):
    """The packaged model on Ultralytics' photos: the predictor's class maps equal the reference of its own logits."""
    model = YOLO(str(WEIGHTS_DIR / "yolo11n-semseg.pt"))
    model.predict(ASSETS / "bus.jpg", imgsz=imgsz, rect=rect, verbose=False)  # sets up the predictor
    predictor = model.predictor
    for name in ("bus.jpg", "zidane.jpg"):
        img = cv2.imread(str(ASSETS / name))
        im = predictor.preprocess([img])
        logits = predictor.inference(im)
        result = predictor.postprocess(logits, im, [img])[0]
        logits = logits[0] if isinstance(logits, (list, tuple)) else logits
        assert torch.equal(
            result.semseg.data, reference(logits[0], im.shape[2:], img.shape[:2], predictor._ratio_pads[0])
        )
