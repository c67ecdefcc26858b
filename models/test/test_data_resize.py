"""Resize policies: crop keeps the centre window, squash the whole frame, pad letterboxes with
black pixels and void labels; a label always gets its frame's geometry."""

import numpy as np
import pytest

from dedelayed_models.data.resize import DEFAULT_RESIZE, crop_box, fit_image, fit_label


def _quadrants(h, w):
    """(h, w) label: class = 2 * (row in lower half) + (column in right half)."""
    rows, cols = np.mgrid[0:h, 0:w]
    return (2 * (rows >= h // 2) + (cols >= w // 2)).astype(np.uint8)


def test_crop_cuts_the_centre_window_of_the_target_aspect():
    assert crop_box((360, 480), (96, 192)) == (60, 0, 240, 480)      # 4:3 -> 2:1: top and bottom go
    assert crop_box((100, 400), (50, 100)) == (0, 100, 100, 200)     # 4:1 -> 2:1: sides go
    label = np.zeros((360, 480), np.uint8)
    label[:60] = 10                                                  # the band the crop removes
    label[300:] = 0
    label[60:300] = 13
    assert (fit_label(label, (96, 192), "crop") == 13).all()
    assert (fit_label(label, (96, 192), "squash") == 10).any()
    assert DEFAULT_RESIZE == "crop"


def test_pad_letterboxes_with_void_and_keeps_the_frame_whole():
    label = _quadrants(360, 480)
    padded = fit_label(label, (96, 192), "pad")
    assert padded.shape == (96, 192)
    assert (padded[:, :32] == 255).all() and (padded[:, -32:] == 255).all()   # 128 wide, centred
    inner = padded[:, 32:160]
    assert np.array_equal(np.unique(inner), [0, 1, 2, 3])
    image = fit_image(np.full((360, 480, 3), 200, np.uint8), (96, 192), "pad")
    assert (image[:, :32] == 0).all() and (image[:, 32:160] == 200).all()


@pytest.mark.parametrize("policy", ["crop", "squash", "pad"])
def test_label_follows_its_frame(policy):
    """A frame whose pixels encode their quadrant resizes to the label's quadrants."""
    label = _quadrants(360, 480)
    image = np.repeat((label * 60)[..., None], 3, axis=2).astype(np.uint8)
    small_label, small_image = fit_label(label, (48, 96), policy), fit_image(image, (48, 96), policy)
    seen = small_label != 255
    assert np.abs(small_image[..., 0][seen].astype(int) - small_label[seen].astype(int) * 60).mean() < 6


def test_unknown_policy_names_the_choices():
    with pytest.raises(ValueError, match=r"resize policy 'stretch' unknown; choose one of \['crop', 'squash', 'pad'\]"):
        fit_image(np.zeros((4, 4, 3), np.uint8), (2, 2), "stretch")
