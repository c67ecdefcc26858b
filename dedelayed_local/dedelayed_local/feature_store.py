"""Which remote features, if any, the robot fuses into a fresh frame (docs/ARCHITECTURE.md, "Timing rules").

Plain Python, no ROS: the fusion node offers every received FeatureMap, the segmenter asks
for the features of each camera frame. Rules:

- with a cloud public key, a FeatureMap is verified first (Ed25519, before any decoding) and
  unsigned or wrongly signed maps are refused; with an uplink ledger, a map whose echoed stamp
  is not one this robot uplinked in the last few seconds is refused (forged "newer" stamps and
  replays cannot win the pairing below);
- a map computed for another robot (its signed ``robot`` field is not this robot's namespace)
  is refused, and so is a second map echoing a stamp an accepted map already answered (a
  replay; the accepted one stays in use);
- a FeatureMap is stored only if its model identity is the expected one, its shape equals the
  local stage-1 shape, its encoding/payload decode and all values are finite; otherwise the
  rejection reason is kept so diagnostics can say why the robot runs local-only;
- for a frame stamped t the newest stored FeatureMap with echoed stamp s <= t is used and
  tau = t - s is measured on the robot clock (no clock sync with the cloud);
- with plausibility bounds (per-channel ranges of z seen in training), a map far outside them
  is refused, even when authentic;
- features older than ``max_feature_age_ms`` (tau above it) are not fused;
- nothing here ever blocks on the cloud: a lookup is a lock and a short scan.
"""

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from dedelayed_local.echo_ledger import UplinkLedger
from dedelayed_models.peer_text import peer_text
from dedelayed_models.transport import EncodedFeatures, FeatureDecodeError, decode_features
from dedelayed_models.transport.feature_signing import BAD_SIGNATURE, UNSIGNED, FeatureVerifier, SignatureRefused
from dedelayed_models.transport.z_bounds import ZBounds

FUSED = "fused"
LOCAL_ONLY = "local_only"

# Why a frame was segmented local-only (diagnostics show these strings).
NO_FEATURES_YET = "no_features_yet"
STALE = "features_stale"
ONLY_NEWER_FEATURES = "features_newer_than_frame"
IDENTITY_MISMATCH = "identity_mismatch"
SHAPE_MISMATCH = "shape_mismatch"
BAD_PAYLOAD = "bad_payload"
STAMP_IN_FUTURE = "stamp_in_future"
FUSION_DISABLED = "fusion_disabled"
FUSION_INACTIVE = "fusion_inactive"
STAMP_NOT_UPLINKED = "stamp_not_uplinked"
IMPLAUSIBLE = "features_implausible"
FOR_ANOTHER_ROBOT = "for_another_robot"
REPLAYED = "replayed"
REJECTION_REASONS = (UNSIGNED, BAD_SIGNATURE, FOR_ANOTHER_ROBOT, STAMP_NOT_UPLINKED, REPLAYED,
                     STAMP_IN_FUTURE, IDENTITY_MISMATCH, SHAPE_MISMATCH, BAD_PAYLOAD, IMPLAUSIBLE)
# Stamps of accepted maps remembered to refuse a replay (beyond the echo window the uplink
# ledger refuses it anyway): as many as the ledger keeps.
ANSWERED_STAMPS = 4096

NS_PER_MS = 1_000_000
# An echoed stamp later than the robot's own clock at receipt means the cloud did not echo a
# robot stamp (or the camera clock is not the robot clock). Allow a little camera/driver skew.
FUTURE_TOLERANCE_MS = 50.0


@dataclass(frozen=True)
class RemoteFeatures:
    """One accepted FeatureMap. z: (C, H, W) float32 on the robot's stage-1 grid."""

    z: np.ndarray
    stamp_ns: int             # echoed robot stamp s of the newest frame the remote used [ns]
    delay_ms: float           # delay the remote conditioned on [ms]
    received_ns: int          # robot clock when it arrived [ns]
    remote_compute_ms: float  # the remote's own decode + forward + encode time [ms]


@dataclass(frozen=True)
class FusionDecision:
    """What to do with one camera frame."""

    mode: str                                 # FUSED or LOCAL_ONLY
    reason: str                               # FUSED or one of the local-only reasons above
    features: Optional[RemoteFeatures] = None
    tau_ms: Optional[float] = None            # frame stamp - echoed stamp [ms], when known
    detail: str = ""                          # human-readable explanation for logs


class FeatureRejected(ValueError):
    """A FeatureMap that must not be fused; ``reason`` is one of the module's reason codes."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class FeatureStore:
    """Thread-safe store of the last few accepted FeatureMaps for frame pairing."""

    def __init__(self, *, expected_identity: str, expected_shape: Tuple[int, int, int],
                 max_feature_age_ms: float = 300.0, history: int = 8, enabled: bool = True,
                 verifier: Optional[FeatureVerifier] = None,
                 ledger: Optional[UplinkLedger] = None, z_bounds: Optional[ZBounds] = None,
                 receiving: bool = True, robot: str = ""):
        self.expected_identity = expected_identity
        self.expected_shape = tuple(int(n) for n in expected_shape)
        self.max_feature_age_ms = float(max_feature_age_ms)
        self.enabled = enabled
        self.receiving = receiving  # False while the robot's fusion node is not active (lifecycle)
        self.robot = robot          # this robot's namespace; "" = maps are not checked for it
        self._answered = OrderedDict()  # stamp_ns of accepted maps -> None, oldest first
        self.verifier = verifier  # None: signatures are not checked (no cloud key configured)
        self.ledger = ledger      # None: echoed stamps are not checked against the uplink
        self.z_bounds = z_bounds  # None: no plausibility check (bounds not measured)
        self._accepted = deque(maxlen=history)  # sorted by stamp_ns, newest last
        self._last_rejection: Optional[FeatureRejected] = None
        self._last_rejection_ns = -1
        self._lock = threading.Lock()
        self.accepted_count = 0
        self.rejected_count = 0
        self.rejected_by_reason = {reason: 0 for reason in REJECTION_REASONS}

    def validate(self, encoded: EncodedFeatures, model_identity: str) -> np.ndarray:
        """Decode a FeatureMap payload or raise FeatureRejected naming what is wrong."""
        if model_identity != self.expected_identity:
            raise FeatureRejected(
                IDENTITY_MISMATCH,
                f"FeatureMap from remote model '{peer_text(model_identity)}' but this robot's local model "
                f"was trained with '{self.expected_identity}'; run the matching checkpoint on the "
                f"cloud or set expected_remote_identity")
        if tuple(encoded.shape) != self.expected_shape:
            got = "x".join(map(str, encoded.shape))
            want = "x".join(map(str, self.expected_shape))
            raise FeatureRejected(
                SHAPE_MISMATCH,
                f"FeatureMap shape {got} does not match local stage-1 {want}; do the cloud's "
                f"local_height/local_width parameters match this robot's model resolution?")
        try:
            z = decode_features(encoded)
        except FeatureDecodeError as error:
            raise FeatureRejected(BAD_PAYLOAD, str(error)) from error
        violation = None if self.z_bounds is None else self.z_bounds.violation(z)
        if violation:
            raise FeatureRejected(IMPLAUSIBLE, violation)
        return z

    def offer(self, encoded: EncodedFeatures, *, model_identity: str, stamp_ns: int,
              delay_ms: float, received_ns: int, remote_compute_ms: float = 0.0,
              signature=b"", robot: str = "") -> Optional[FeatureRejected]:
        """Store a received FeatureMap if valid; returns the rejection (or None if accepted).

        signature: the FeatureMap's Ed25519 signature (checked when a verifier is set);
        robot: the namespace of the robot the map says it was computed for (signed).
        """
        try:
            if self.verifier is not None:
                try:
                    self.verifier.verify(signature, robot=robot, stamp_ns=stamp_ns,
                                         delay_ms=delay_ms, model_identity=model_identity,
                                         encoded=encoded)
                except SignatureRefused as refused:
                    raise FeatureRejected(refused.reason, str(refused)) from refused
            if self.robot and robot != self.robot:
                raise FeatureRejected(
                    FOR_ANOTHER_ROBOT,
                    f"FeatureMap was computed for robot '{peer_text(robot)}', not for this robot "
                    f"{self.robot}: another robot's map fed to this one, or a cloud serving "
                    "this robot under another namespace")
            if stamp_ns > received_ns + FUTURE_TOLERANCE_MS * NS_PER_MS:
                raise FeatureRejected(
                    STAMP_IN_FUTURE,
                    f"FeatureMap stamp is {(stamp_ns - received_ns) / NS_PER_MS:.0f} ms ahead of "
                    f"the robot clock; the cloud must echo the camera frame's stamp untouched "
                    f"(and camera stamps must come from the robot clock)")
            if self.ledger is not None and not self.ledger.sent_recently(stamp_ns):
                raise FeatureRejected(
                    STAMP_NOT_UPLINKED,
                    f"FeatureMap echoes stamp {stamp_ns} ns, which is not one of the frames this "
                    f"robot uplinked in the last {self.ledger.window_ns / 1e9:.1f} s of camera "
                    f"time: a replayed or forged map, or "
                    f"a cloud that rewrites stamps (it must echo them untouched)")
            z = self.validate(encoded, model_identity)
            with self._lock:
                replayed = int(stamp_ns) in self._answered
            if replayed:   # a map that would be accepted but for its stamp
                raise FeatureRejected(
                    REPLAYED,
                    f"FeatureMap echoes stamp {stamp_ns} ns, which an accepted map already "
                    "answered: a replayed map (the one accepted is still fused)")
        except FeatureRejected as rejection:
            with self._lock:
                self._last_rejection, self._last_rejection_ns = rejection, received_ns
                self.rejected_count += 1
                self.rejected_by_reason[rejection.reason] = (
                    self.rejected_by_reason.get(rejection.reason, 0) + 1)
            return rejection
        features = RemoteFeatures(z, int(stamp_ns), float(delay_ms), int(received_ns),
                                  float(remote_compute_ms))
        with self._lock:
            self._answered[int(stamp_ns)] = None
            while len(self._answered) > ANSWERED_STAMPS:
                self._answered.popitem(last=False)
            self._accepted.append(features)
            if len(self._accepted) > 1 and self._accepted[-2].stamp_ns > features.stamp_ns:
                ordered = sorted(self._accepted, key=lambda f: f.stamp_ns)  # reordered by the link
                self._accepted.clear()
                self._accepted.extend(ordered)
            self.accepted_count += 1
        return None

    def counter_values(self) -> dict:
        """Diagnostics key -> value: accepted/refused counts (per reason) and authentication."""
        with self._lock:
            values = {"features_accepted": str(self.accepted_count),
                      "features_rejected": str(self.rejected_count)}
            values.update({f"features_rejected_{reason}": str(count)
                           for reason, count in self.rejected_by_reason.items()})
        values["feature_signatures"] = (
            "verified (Ed25519, cloud public key)" if self.verifier is not None else
            "NOT verified: no feature_verify_key set, any FeatureMap on this graph is trusted")
        return values

    def select(self, frame_stamp_ns: int) -> FusionDecision:
        """Features to fuse into the frame stamped ``frame_stamp_ns`` (robot clock), or why not."""
        if not self.enabled:
            return FusionDecision(LOCAL_ONLY, FUSION_DISABLED, detail="fusion disabled by parameter")
        if not self.receiving:
            return FusionDecision(LOCAL_ONLY, FUSION_INACTIVE, detail=(
                "the fusion node is not active (lifecycle), so no FeatureMap is received; "
                "activate dedelayed_fusion"))
        with self._lock:
            candidates = [f for f in self._accepted if f.stamp_ns <= frame_stamp_ns]
            newest_any = self._accepted[-1] if self._accepted else None
            rejection, rejection_ns = self._last_rejection, self._last_rejection_ns
        best = candidates[-1] if candidates else None
        if rejection is not None and (newest_any is None or rejection_ns > newest_any.received_ns):
            # The newest thing the cloud sent was unusable: say so rather than "stale".
            tau = None if best is None else (frame_stamp_ns - best.stamp_ns) / NS_PER_MS
            if best is None or tau > self.max_feature_age_ms:
                return FusionDecision(LOCAL_ONLY, rejection.reason, None, tau, str(rejection))
        if best is None:
            if newest_any is None:
                return FusionDecision(LOCAL_ONLY, NO_FEATURES_YET,
                                      detail="no FeatureMap received from the cloud yet")
            return FusionDecision(
                LOCAL_ONLY, ONLY_NEWER_FEATURES,
                detail="every stored FeatureMap describes a frame newer than this one")
        tau_ms = (frame_stamp_ns - best.stamp_ns) / NS_PER_MS
        if tau_ms > self.max_feature_age_ms:
            return FusionDecision(
                LOCAL_ONLY, STALE, None, tau_ms,
                f"newest usable FeatureMap is {tau_ms:.0f} ms old (max_feature_age_ms "
                f"{self.max_feature_age_ms:.0f}); is the cloud or the link down?")
        return FusionDecision(FUSED, FUSED, best, tau_ms)
