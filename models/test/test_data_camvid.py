"""Real driving frames (../shared/data): loader, and the staleness curve its README reports."""

import pytest

from dedelayed_models.data import CamVidSequence, camvid_shared_root
from dedelayed_models.evaluation import stale_label_curve

ROOT = camvid_shared_root()
pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason=f"shared CamVid data not found at {ROOT} "
                                f"(set DEDELAYED_SHARED_DATA to the folder holding camvid-0016E5-val)")


def test_loader_and_real_staleness():
    seq = CamVidSequence(ROOT)
    assert seq.num_frames == 101 and seq.fps == 15.0
    assert seq.frame(0).shape == (360, 480, 3) and seq.label(0, (180, 240)).shape == (180, 240)
    curve = stale_label_curve(seq.label, seq.num_frames, [0, 1, 2])
    assert curve[0]["mIoU"] == 100.0
    assert 70 < curve[1]["mIoU"] < 78 and 60 < curve[2]["mIoU"] < 68   # README: 74.3, 64.3
