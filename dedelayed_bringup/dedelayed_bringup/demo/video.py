"""The demo's real video: ``--video camvid`` (the shared labelled CamVid clip) or ``--video PATH``
(any frames folder), played by the camera node as the robot's camera.

The folder is opened by the data layer (``synthetic_camera_node.open_frames_folder`` over
``dedelayed_models.data.open_sources``), here only to learn its rate, length, labelled frames and
label classes before the drive; the camera node reads the frames itself. A clip is short (the
CamVid clip is 6.7 s), so it plays ``loops`` times back to back; at each seam the scene jumps
from the last frame to the first, and the cloud's context spans the cut for a few frames.

Which frames each figure covers: every labelled camera instant of every loop, and for the
shared CamVid clip also only the instants showing frames 66-100, which no CamVid model trains
on (frames 0-59 train; ``models/dedelayed_models/configs/base/camvid.yaml``).
"""

import os
from dataclasses import dataclass
from typing import Optional, Tuple

from dedelayed_models.classes import CLASS_NAMES

CAMVID = "camvid"                 # --video camvid: the data layer's camvid source, no root
TARGET_DRIVE_S = 20.0             # --video-loops 0: as many loops as make about this long a drive [s]
# [start, stop) frames of the shared CamVid clip no CamVid model is trained on: frames 0-59
# train, 60-65 are a gap (a training clip's context reaches back into them), 66-100 held out.
CAMVID_HELD_OUT_FRAMES = (66, 101)


@dataclass(frozen=True)
class DemoVideo:
    """A frames folder the camera plays, and what the report needs to know of it."""

    source: str                      # data-layer source: 'camvid' or 'frames'
    root: str                        # the folder, absolute
    name: str                        # the folder's name (the clip)
    fps: float                       # rate it is played at [Hz]
    num_frames: int                  # frames of one play
    loops: int                       # plays back to back
    labeled_frames: Tuple[int, ...]  # frame indices with a label
    class_names: Tuple[str, ...]     # classes the dataset labels (all 19 for a trainId folder)
    held_out: Optional[Tuple[int, int]]  # [start, stop) frames never trained on; None = not known

    @property
    def duration_s(self) -> float:
        """Length of the drive: every frame of every loop [s]."""
        return self.loops * self.num_frames / self.fps

    @property
    def labels_subset(self) -> bool:
        """The dataset labels fewer classes than the 19 the models predict."""
        return len(self.class_names) < len(CLASS_NAMES)

    def frame_sets(self) -> dict:
        """{description: [start, stop) source frames} of the figures the report gives: every
        labelled frame; for the shared CamVid clip also its held-out frames."""
        first, last = (self.labeled_frames[0], self.labeled_frames[-1]) if self.labeled_frames else (0, -1)
        sets = {f"all labelled frames ({len(self.labeled_frames)}, frames {first}-{last})":
                (0, self.num_frames)}
        if self.held_out:
            lo, hi = self.held_out
            sets[f"held-out frames {lo}-{hi - 1} (never trained on)"] = (lo, hi)
        return sets

    def describe(self) -> str:
        return (f"{self.source} folder {self.name} ({self.root}): {self.num_frames} frames "
                f"({len(self.labeled_frames)} labelled) at {self.fps:g} fps, played {self.loops} "
                f"time(s) = {self.duration_s:.1f} s")

    def camera_parameters(self, frame_log_path: str = "") -> dict:
        """The camera node's parameters that make it play this video (synthetic_camera_node)."""
        return {"frames_source": self.source, "frames_root": self.root, "frames_fps": float(self.fps),
                "loops": int(self.loops), "frame_log_path": frame_log_path}

    def open(self):
        """The data layer's frame source over the folder (to read single frames back)."""
        from dedelayed_bringup.synthetic_camera_node import open_frames_folder

        return open_frames_folder(self.source, self.root, self.fps)[0]


def auto_loops(num_frames: int, fps: float, target_s: float = TARGET_DRIVE_S) -> int:
    """Plays of a ``num_frames`` clip at ``fps`` [Hz] closest to ``target_s`` seconds, at least 1."""
    return max(1, round(target_s * fps / num_frames))


def resolve_video(video: str, fps: float = 0.0, loops: int = 0) -> DemoVideo:
    """``video``: 'camvid' or a frames folder path; ``fps`` > 0 overrides its rate [Hz] (required
    when the folder states none); ``loops`` 0 = ``auto_loops``. Errors name the flag to fix."""
    from dedelayed_bringup.synthetic_camera_node import open_frames_folder

    if fps < 0 or loops < 0:
        raise ValueError(f"--video-fps {fps} / --video-loops {loops}: give positive values "
                         "(0 = the folder's own rate / about a 20 s drive)")
    if video == CAMVID:
        source, root = CAMVID, ""
    else:
        source, root = "frames", os.path.abspath(os.path.expanduser(video))
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{root}: no such folder; give 'camvid' or a folder holding "
                                    "frames/ (and optionally labels/, dataset.yaml)")
    folder, spec = open_frames_folder(source, root, fps, fps_option="--video-fps")
    num_frames = int(folder.num_frames)
    # The held-out frames are a property of the shared clip and the CamVid training configs.
    held_out = CAMVID_HELD_OUT_FRAMES if source == CAMVID and num_frames >= CAMVID_HELD_OUT_FRAMES[1] \
        else None
    return DemoVideo(source=source, root=os.path.abspath(spec.root), name=folder.name,
                     fps=float(folder.fps), num_frames=num_frames,
                     loops=int(loops) or auto_loops(num_frames, float(folder.fps)),
                     labeled_frames=tuple(int(t) for t in folder.labeled_frames),
                     class_names=tuple(spec.class_names), held_out=held_out)
