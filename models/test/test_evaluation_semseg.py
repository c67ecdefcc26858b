"""SemSegEvaluator against hand-computed confusion matrices."""

import math

import numpy as np
import pytest
import torch

from dedelayed_models.evaluation import SemSegEvaluator

I = 255


def test_two_by_three_hand_computed():
    gt = np.array([[0, 0, 1], [1, 2, I]])
    pred = np.array([[0, 1, 1], [1, 1, 0]])
    ev = SemSegEvaluator()
    ev.process(pred, gt)
    r = ev.evaluate()
    # class 0: tp 1, fn 1 (pred 1), fp 0 -> 1/2; class 1: tp 2, fp 2 (from gt 0 and gt 2) -> 2/4;
    # class 2: tp 0, fn 1 -> 0; pixel (1,2) is ignored; other 16 classes absent -> NaN, left out.
    assert r["IoU"]["road"] == pytest.approx(50.0)
    assert r["IoU"]["sidewalk"] == pytest.approx(50.0)
    assert r["IoU"]["building"] == pytest.approx(0.0)
    assert math.isnan(r["IoU"]["sky"])
    assert r["mIoU"] == pytest.approx(100 / 3)
    assert r["pixel_accuracy"] == pytest.approx(60.0)
    assert r["num_pixels"] == 5
    assert ev.confusion.dtype == np.int64


def test_predicted_but_absent_class_counts_as_zero():
    ev = SemSegEvaluator()
    ev.process(np.array([[0, 13]]), np.array([[0, 0]]))
    r = ev.evaluate()
    assert r["IoU"]["road"] == pytest.approx(50.0) and r["IoU"]["car"] == 0.0
    assert r["mIoU"] == pytest.approx(25.0)


def test_invalid_prediction_is_a_miss_not_a_false_positive():
    ev = SemSegEvaluator()
    ev.process(np.array([[255, 0]]), np.array([[0, 0]]))
    assert ev.evaluate()["IoU"]["road"] == pytest.approx(50.0)


def test_accumulates_batches_torch_and_reset():
    ev = SemSegEvaluator()
    gt = torch.tensor([[[1, 1]], [[2, 2]]])
    ev.process(gt.clone(), gt)
    assert ev.evaluate()["mIoU"] == 100.0
    ev.process(torch.zeros(1, 2, dtype=torch.long), torch.tensor([[1, 1]]))
    assert ev.evaluate()["IoU"]["sidewalk"] == pytest.approx(50.0)
    ev.reset()
    assert ev.confusion.sum() == 0 and math.isnan(ev.evaluate()["mIoU"])


def test_bad_inputs_are_named():
    ev = SemSegEvaluator()
    with pytest.raises(ValueError, match="shape"):
        ev.process(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[19\]"):
        ev.process(np.zeros((1, 1)), np.array([[19]]))


def test_dataset_class_miou_leaves_out_classes_the_dataset_never_labels():
    """Ground truth of classes 0 and 1 only; the model also predicts class 2 on a pixel of 0.
    Over all classes class 2 counts as IoU 0; over the dataset's classes {0, 1} it does not, but
    its pixel still costs class 0 (a miss)."""
    from dedelayed_models.evaluation import subset_miou
    ev = SemSegEvaluator(num_classes=3, class_names=("a", "b", "c"))
    ev.process(np.array([[0, 2, 1, 1]]), np.array([[0, 0, 1, 1]]))     # pred, gt
    r = ev.evaluate()
    assert r["mIoU"] == pytest.approx((50 + 100 + 0) / 3)
    assert subset_miou(r, ["a", "b"]) == pytest.approx((50 + 100) / 2)
