"""Streaming pairing: each ground-truth instant takes the latest output finished by then."""

import numpy as np
import pytest

from dedelayed_models.evaluation import StreamingEvaluator, pair_streaming


def test_pairing_hand_computed():
    gt_times = [0.00, 0.10, 0.20, 0.30]
    finished = [0.05, 0.25, 0.20, 0.31]          # unsorted; 0.20 finishes exactly at an instant
    assert pair_streaming(gt_times, finished) == [None, 0, 2, 1]


def test_streaming_scores_stale_outputs_against_the_present():
    a, b = np.zeros((2, 2), int), np.ones((2, 2), int)
    gts = [a, b, b]                               # the world changes from class 0 to class 1 at t=0.1
    preds = [a, b]                                # outputs describe the frame they were computed on
    ev = StreamingEvaluator()
    ev.process_stream([0.0, 0.1, 0.2], gts, [0.0, 0.15], preds)
    r = ev.evaluate()
    # t=0.0 -> pred a (correct); t=0.1 -> still pred a (stale: all wrong); t=0.2 -> pred b (correct)
    assert r["pixel_accuracy"] == pytest.approx(100 * 8 / 12)
    assert r["IoU"]["road"] == pytest.approx(50.0) and r["IoU"]["sidewalk"] == pytest.approx(50.0)
    assert r["num_unanswered"] == 0 and r["num_instants"] == 3


def test_unanswered_instants_are_wrong_or_skipped():
    gts = [np.zeros((1, 2), int)] * 2
    wrong = StreamingEvaluator()
    wrong.process_stream([0.0, 1.0], gts, [0.5], [np.zeros((1, 2), int)])
    assert wrong.evaluate()["pixel_accuracy"] == 50.0 and wrong.evaluate()["num_unanswered"] == 1
    skip = StreamingEvaluator(unanswered="skip")
    skip.process_stream([0.0, 1.0], gts, [0.5], [np.zeros((1, 2), int)])
    assert skip.evaluate()["pixel_accuracy"] == 100.0 and skip.evaluate()["num_unanswered"] == 1
