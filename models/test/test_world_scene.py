"""The world has the properties that make delay matter: classes, alignment, thin objects, motion."""

import cv2
import numpy as np

from dedelayed_models.classes import IGNORE_ID, NUM_CLASSES
from dedelayed_models.data.world import WorldSequence
from dedelayed_models.evaluation import stale_label_curve
from dedelayed_models.evaluation.staleness import on_output_grid


def test_at_least_twelve_classes_appear_regularly():
    seen = np.zeros(256, bool)
    for seed in (1_000_000, 1_000_001):
        seq = WorldSequence(seed, num_frames=300)
        for t in range(0, 300, 30):
            seen[np.unique(seq.label(t, (256, 512)))] = True
    assert seen[:NUM_CLASSES].sum() >= 12, np.flatnonzero(seen)
    assert not seen[NUM_CLASSES:IGNORE_ID].any() and not seen[IGNORE_ID]


def test_labels_agree_across_resolutions():
    seq = WorldSequence(1_000_002, num_frames=60)
    for t in (0, 45):
        hi = seq.label(t, (256, 512))
        for h, w in ((128, 256), (64, 128)):
            lo = seq.label(t, (h, w))
            down = cv2.resize(hi, (w, h), interpolation=cv2.INTER_NEAREST)
            assert (lo == down).mean() > 0.93


def test_image_edges_sit_on_label_edges():
    seq = WorldSequence(1_000_003, num_frames=20, effects=False)   # flat colours: edges are exact
    image, label = seq.render(10, 128, 256)
    label_edge = label[:, 1:] != label[:, :-1]
    image_edge = (image[:, 1:] != image[:, :-1]).any(axis=2)
    assert label_edge.sum() > 500
    assert image_edge[label_edge].mean() > 0.9
    shifted = (image[:, 2:] != image[:, 1:-1]).any(axis=2)    # one pixel off: far worse
    assert shifted[label_edge[:, :-1]].mean() < image_edge[label_edge].mean() - 0.2


def test_thin_objects_need_the_remote_resolution():
    seq = WorldSequence(1_000_000, num_frames=120)

    def iou_of_quarter(cls):
        inter = union = 0
        for t in range(0, 120, 20):
            hi = seq.label(t, (256, 512)) == cls
            lo = cv2.resize(seq.label(t, (64, 128)), (512, 256), interpolation=cv2.INTER_NEAREST) == cls
            inter += (hi & lo).sum()
            union += (hi | lo).sum()
        return inter / union
    assert iou_of_quarter(5) < 0.6          # poles
    assert iou_of_quarter(0) > 0.9          # road


def test_staleness_grows_with_delay_and_motion():
    results = []
    for motion in (0.0, 0.5, 1.0, 2.0):
        seq = WorldSequence(1_000_004, num_frames=45, motion=motion)
        curve = stale_label_curve(lambda t: seq.label(t, (64, 128)), 45, [0, 1, 3])
        results.append([curve[d]["mIoU"] for d in (0, 1, 3)])
    assert results[0] == [100.0, 100.0, 100.0]                 # a still world never goes stale
    for m in range(1, 4):
        assert results[m][0] == 100.0 and results[m][1] > results[m][2]
    at_3 = [r[2] for r in results]
    assert at_3[0] > at_3[1] > at_3[2] > at_3[3]
    assert at_3[2] < 80.0                                      # default motion: delay really hurts


def test_output_grid_bounds_what_a_coarse_model_can_lose_to_delay():
    """The stride-8 output grid of the shipped models caps both accuracy and the delay loss."""
    seq = WorldSequence(1_000_004, num_frames=30)
    label = seq.label(20, (96, 192))
    assert (on_output_grid(label, 1) == label)[label != IGNORE_ID].all()   # stride 1: exact
    exact = stale_label_curve(lambda t: seq.label(t, (96, 192)), 30, [0, 3])
    coarse = stale_label_curve(lambda t: seq.label(t, (96, 192)), 30, [0, 3], output_stride_px=8)
    assert coarse[0]["mIoU"] < 80.0                            # the grid alone loses detail
    assert exact[0]["mIoU"] - exact[3]["mIoU"] > coarse[0]["mIoU"] - coarse[3]["mIoU"] > 0
