"""The predictor's class maps are the reference: logits bilinear to the letterboxed input, padding cut, bilinear to the
original size, then the first maximum over classes (as `torch.argmax`).

On the CPU the resizes run in OpenCV (`utils.ops.opencv_resizes`): the same sampling, other float rounding. So a
class map may differ from the reference only where the reference's two best scores are a near-tie, and at no more
than a few pixels in a million (benchmarks/postprocess_agreement.py measures it over real datasets).
"""

from __future__ import annotations

import cv2
import pytest
import torch
import torch.nn.functional as F
from ultralytics import YOLO  # first: importing ultralytics_semseg.utils.ops before it breaks the plug-in (circular)
from ultralytics.utils import ASSETS
from ultralytics.utils.ops import scale_masks

from ultralytics_semseg.cfg import WEIGHTS_DIR
from ultralytics_semseg.utils import ops
from ultralytics_semseg.utils.ops import argmax_classes, postprocess

NEAR_TIE = 1e-3  # a class map may differ from the reference only where its two best scores are closer than this
MAX_DIFFERING = 1e-5  # ... and at no more than this share of the pixels


def reference_logits(logits: torch.Tensor, input_hw, ori_hw, ratio_pad=None) -> torch.Tensor:
    """(C, H, W) logits at the original size as the task has always defined them, from PyTorch and Ultralytics only."""
    x = logits[None].float().contiguous(memory_format=torch.channels_last)
    x = F.interpolate(x, size=tuple(input_hw), mode="bilinear", align_corners=False)
    return scale_masks(x, tuple(ori_hw), ratio_pad=ratio_pad)[0]


def assert_matches_reference(classes: torch.Tensor, logits: torch.Tensor, input_hw, ori_hw, ratio_pad=None):
    """`classes` equals the reference class map of `logits`, except at rare near-ties of the reference's scores."""
    ref_logits = reference_logits(logits, input_hw, ori_hw, ratio_pad)
    ref = torch.argmax(ref_logits, 0).to(torch.uint8)
    assert classes.dtype == torch.uint8 and classes.shape == ref.shape
    differ = classes != ref
    assert differ.float().mean() <= MAX_DIFFERING, f"{int(differ.sum())} of {differ.numel()} pixels differ"
    if differ.any():
        picked = ref_logits.gather(0, classes.long()[None])[0][differ]
        best = ref_logits.max(0).values[differ]
        assert (best - picked).max() < NEAR_TIE, "a class map differs from the reference where it is no near-tie"


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


def test_the_opencv_route_keeps_the_first_of_tied_classes():
    """Identical planes tie everywhere after any resize: the running maximum keeps the first of them."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 6, 16, 12, generator=g)
    logits[0, 1] = logits[0, 4] = logits[0].max(0).values + 1  # classes 1 and 4 tie and beat the others
    out = ops.to_original_classes(logits, (64, 48), (100, 75))
    assert torch.equal(out, torch.ones(100, 75, dtype=torch.uint8))
    logits[0] = 0.0  # all classes tie
    assert not ops.to_original_classes(logits, (64, 48), (100, 75)).any()


@pytest.mark.parametrize("ori_hw, input_hw, ratio_pad", [
    ((128, 256), (128, 256), None),  # no resize
    ((1080, 810), (640, 480), ((640 / 1080, 640 / 1080), (0.0, 0.0))),  # bus.jpg at 640, minimal letterbox
    ((1080, 810), (640, 640), ((640 / 1080, 640 / 1080), (80.0, 0.0))),  # square letterbox: padding cut
    ((720, 1280), (384, 640), ((0.5, 0.5), (0.0, 12.0))),  # odd padding, downscale
    ((100, 150), (256, 384), ((2.56, 2.56), (0.0, 0.0))),  # upscale
    ((360, 480), (480, 640), None),  # CamVid frame at 640, padding from the shapes
])  # fmt: skip
@pytest.mark.parametrize("nc", [2, 14, 300])  # 300: more than uint8 indices hold in the OpenCV route
def test_postprocess_equals_reference(ori_hw, input_hw, ratio_pad, nc):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, nc, input_hw[0] // 4, input_hw[1] // 4, generator=g) * 4
    out = postprocess(logits, input_hw, [ori_hw] * 2, [ratio_pad] * 2)
    full = postprocess(logits, input_hw, [ori_hw] * 2, [ratio_pad] * 2, return_logits=True)
    for x, o, f in zip(logits, out, full):
        if nc > 256:
            ref = torch.argmax(reference_logits(x, input_hw, ori_hw, ratio_pad), 0).to(torch.int32)
            assert torch.equal(o, ref)
            continue
        assert tuple(o.shape) == ori_hw
        assert_matches_reference(o, x, input_hw, ori_hw, ratio_pad)
        assert_matches_reference(argmax_classes(f[None])[0], x, input_hw, ori_hw, ratio_pad)
        torch.testing.assert_close(
            f, reference_logits(x, input_hw, ori_hw, ratio_pad), rtol=1e-4, atol=1e-3
        )  # sampling positions in float32


def test_the_pytorch_route_is_the_reference_exactly(monkeypatch):
    """Where OpenCV does not resize (a GPU tensor), the class map is the reference bit for bit."""
    monkeypatch.setattr(ops, "opencv_resizes", lambda logits: False)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 14, 160, 120, generator=g) * 4
    rp = ((640 / 1080, 640 / 1080), (0.0, 0.0))
    out = postprocess(logits, (640, 480), [(1080, 810)], [rp])[0]
    assert torch.equal(out, torch.argmax(reference_logits(logits[0], (640, 480), (1080, 810), rp), 0).to(torch.uint8))


@pytest.mark.parametrize("imgsz, rect", [(320, True), (640, True), (512, False)])
def test_predict_on_photos_equals_reference(imgsz, rect):
    """The packaged model on Ultralytics' photos: the predictor's class maps are the reference of its own logits."""
    model = YOLO(str(WEIGHTS_DIR / "yolo11n-semseg.pt"))
    model.predict(ASSETS / "bus.jpg", imgsz=imgsz, rect=rect, verbose=False)  # sets up the predictor
    predictor = model.predictor
    for name in ("bus.jpg", "zidane.jpg"):
        img = cv2.imread(str(ASSETS / name))
        im = predictor.preprocess([img])
        logits = predictor.inference(im)
        result = predictor.postprocess(logits, im, [img])[0]
        logits = logits[0] if isinstance(logits, (list, tuple)) else logits
        assert_matches_reference(result.semseg.data, logits[0], im.shape[2:], img.shape[:2], predictor._ratio_pads[0])
