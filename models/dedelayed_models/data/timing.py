"""The one place for the video clock: default frame rate and delay unit conversions.

The paper works at 30 fps and sweeps delays of 0-5 frames (0-165 ms). Everything in
``dedelayed_models.data`` that needs a frame rate defaults to ``DEFAULT_FPS`` from here.
"""

DEFAULT_FPS = 30.0

# Paper section 5: "the delay was sampled per batch from a uniform distribution" over 0-5 frames.
DEFAULT_DELAY_FRAMES_RANGE = (0, 5)


def frame_period_ms(fps: float = DEFAULT_FPS) -> float:
    """Milliseconds between two consecutive frames at ``fps``."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return 1000.0 / fps


def delay_frames_to_ms(delay_frames: float, fps: float = DEFAULT_FPS) -> float:
    """A delay of ``delay_frames`` frames at ``fps``, in milliseconds."""
    return float(delay_frames) * frame_period_ms(fps)


def delay_ms_to_frames(delay_ms: float, fps: float = DEFAULT_FPS) -> int:
    """The whole number of frames at ``fps`` closest to ``delay_ms``."""
    return int(round(delay_ms / frame_period_ms(fps)))
