"""What the robot process knows about its link to the cloud, in one object both nodes share.

The `robot` executable (robot_main.py) builds one RobotLink from the local model and the fusion
node's parameters, and hands the same object to the segmenter, the fusion and the uplink node.
The nodes never call each other:

- the uplink records every stamp it sends in ``ledger`` (the only stamps a cloud may echo);
- the fusion node offers every received FeatureMap to ``store`` and reports ``delay_estimate()``
  and ``camera_period_ms()`` to the cloud;
- the segmenter asks ``select`` which features to fuse into each frame (tau of every fused
  frame enters the delay estimate right there) and tells ``observe_camera_period`` the camera
  period it measures from the stamps.

Plain Python, no ROS, thread-safe: the segmenter and fusion callbacks run on different threads.
"""

import threading
from typing import Optional, Tuple

from dedelayed_local.delay_tracking import DelayEstimator
from dedelayed_local.echo_ledger import UplinkLedger
from dedelayed_local.feature_store import FeatureStore, FusionDecision
from dedelayed_models.data.context_timing import delay_bound_ms
from dedelayed_models.transport.feature_signing import optional_verifier


class LinkSlot:
    """Where the robot process keeps its RobotLink: set while the segmenter is configured (it
    loads the model the link is built from), None otherwise. The fusion and uplink nodes look
    the link up here at each use, so they follow a segmenter that is cleaned up and configured
    again (lifecycle) instead of holding on to an old link."""

    def __init__(self):
        self.link: Optional["RobotLink"] = None
        self.receiving = False   # whether the fusion node is active (receives FeatureMaps)

    def install(self, link: Optional["RobotLink"]) -> None:
        """The segmenter's new link (None: cleaned up); it receives if the fusion node is active."""
        if link is not None:
            link.store.receiving = self.receiving
        self.link = link

    def set_receiving(self, receiving: bool) -> None:
        """The fusion node was activated (True) or deactivated (False)."""
        self.receiving = receiving
        if self.link is not None:
            self.link.store.receiving = receiving

    def require(self, who: str) -> "RobotLink":
        """The link; RuntimeError telling ``who`` to configure the segmenter first."""
        if self.link is None:
            raise RuntimeError(f"{who} needs the robot's model: configure the segmenter node "
                               "(dedelayed_segmenter) first; it loads the model")
        return self.link


class RobotLink:
    """The FeatureStore (with its uplink ledger), the delay tau observed on fused frames [ms]
    and the measured camera period [ms]."""

    def __init__(self, store: FeatureStore, *, delay_window: int = 30,
                 trained_delay_ms: Tuple[float, float] = (0.0, 0.0),
                 remote_hw: Tuple[int, int] = (0, 0)):
        if store.ledger is None:
            raise ValueError("the robot's FeatureStore needs an UplinkLedger: the link refuses "
                             "FeatureMaps echoing stamps this robot never uplinked")
        self.store = store
        self.ledger: UplinkLedger = store.ledger
        self.trained_delay_ms = tuple(float(ms) for ms in trained_delay_ms)
        self.remote_hw = tuple(int(px) for px in remote_hw)  # (H, W) the cloud model takes [px]
        self._delay = DelayEstimator(delay_window)
        self._camera_period_ms: Optional[float] = None
        self._lock = threading.Lock()

    @classmethod
    def for_model(cls, robot_model, *, expected_remote_identity: str = "",
                  max_feature_age_ms: float = 0.0, fusion_enabled: bool = True,
                  feature_verify_key: str = "", echo_window_s: float = 5.0,
                  delay_window: int = 30, robot: str = "") -> "RobotLink":
        """The link for ``robot_model`` (a RobotModel), with the fusion node's parameters of the
        same names; an empty identity or an age of 0 mean the checkpoint's own. robot: this
        robot's fully qualified namespace; maps computed for another robot are refused."""
        store = FeatureStore(
            expected_identity=expected_remote_identity or robot_model.expected_remote_identity,
            expected_shape=robot_model.feature_shape,
            max_feature_age_ms=delay_bound_ms(max_feature_age_ms, robot_model.trained_delay_ms),
            enabled=fusion_enabled, verifier=optional_verifier(feature_verify_key),
            ledger=UplinkLedger(echo_window_s), z_bounds=robot_model.z_bounds,
            receiving=False, robot=robot)  # receiving: once the fusion node is activated
        return cls(store, delay_window=delay_window, trained_delay_ms=robot_model.trained_delay_ms,
                   remote_hw=tuple(robot_model.config.remote_hw))

    @property
    def expected_shape(self) -> Tuple[int, int, int]:
        """(C, H, W) of the remote features this robot fuses: its local stage-1 shape."""
        return self.store.expected_shape

    def select(self, frame_stamp_ns: int) -> FusionDecision:
        """The features to fuse into the frame stamped ``frame_stamp_ns``, or why none; a fused
        frame's tau enters the delay estimate."""
        decision = self.store.select(frame_stamp_ns)
        if decision.tau_ms is not None and decision.features is not None:
            with self._lock:
                self._delay.add(decision.tau_ms)
        return decision

    def observe_camera_period(self, period_ms: Optional[float]) -> None:
        """The camera period the segmenter measures [ms]; None while it is not known yet."""
        if period_ms is not None:
            with self._lock:
                self._camera_period_ms = float(period_ms)

    def camera_period_ms(self) -> float:
        """The last measured camera period [ms]; 0 until known."""
        with self._lock:
            return self._camera_period_ms or 0.0

    def delay_estimate(self) -> Tuple[float, float, int]:
        """(median tau [ms], jitter [ms], samples) over the last fused frames."""
        with self._lock:
            return self._delay.estimate()

    def describe(self) -> str:
        """One log line: what this robot accepts from the cloud."""
        store = self.store
        low, high = self.trained_delay_ms
        return (f"accepting remote features from '{store.expected_identity}', shape "
                f"{'x'.join(map(str, store.expected_shape))}, up to "
                f"{store.max_feature_age_ms:.0f} ms old (trained for {low:.0f}-{high:.0f} ms)")
