"""Pairing of camera frames with remote features (docs/ARCHITECTURE.md, "Timing rules"), without ROS."""

import numpy as np
import pytest

from dedelayed_local.delay_tracking import DelayEstimator, ModeEpisodes
from dedelayed_local.feature_store import (
    BAD_PAYLOAD,
    FUSED,
    IDENTITY_MISMATCH,
    LOCAL_ONLY,
    NO_FEATURES_YET,
    ONLY_NEWER_FEATURES,
    SHAPE_MISMATCH,
    STALE,
    STAMP_IN_FUTURE,
    FeatureStore,
)
from dedelayed_models.transport import EncodedFeatures, encode_features

MS = 1_000_000
SHAPE = (4, 3, 5)
IDENTITY = "dedelayed-remote-tiny-v1-abc"


def _store(**kwargs):
    return FeatureStore(expected_identity=IDENTITY, expected_shape=SHAPE,
                        max_feature_age_ms=150.0, **kwargs)


def _offer(store, stamp_ms, value=1.0, identity=IDENTITY, shape=SHAPE, received_ms=None):
    encoded = encode_features(np.full(shape, value, dtype=np.float32), "float16")
    return store.offer(encoded, model_identity=identity, stamp_ns=stamp_ms * MS, delay_ms=100.0,
                       received_ns=(received_ms if received_ms is not None else stamp_ms + 100) * MS)


def test_newest_features_not_newer_than_the_frame_are_fused():
    store = _store()
    assert store.select(1000 * MS).reason == NO_FEATURES_YET
    _offer(store, 900, value=1.0)
    _offer(store, 933, value=2.0)
    _offer(store, 966, value=3.0)
    decision = store.select(1000 * MS)
    assert decision.mode == FUSED and decision.tau_ms == pytest.approx(34.0)
    assert decision.features.z[0, 0, 0] == 3.0
    # a frame between two feature stamps pairs with the older one: s <= t, never the future
    decision = store.select(950 * MS)
    assert decision.features.z[0, 0, 0] == 2.0 and decision.tau_ms == pytest.approx(17.0)
    assert store.select(899 * MS).reason == ONLY_NEWER_FEATURES


def test_features_reordered_by_the_link_are_still_paired_by_stamp():
    store = _store()
    _offer(store, 966, value=3.0)
    _offer(store, 933, value=2.0)  # arrives late
    assert store.select(950 * MS).features.z[0, 0, 0] == 2.0
    assert store.select(1000 * MS).features.z[0, 0, 0] == 3.0


def test_stale_features_fall_back_to_local_only_with_the_age():
    store = _store()
    _offer(store, 1000)
    assert store.select(1150 * MS).mode == FUSED
    decision = store.select(1151 * MS)
    assert (decision.mode, decision.reason) == (LOCAL_ONLY, STALE)
    assert decision.tau_ms == pytest.approx(151.0) and "151 ms old" in decision.detail


@pytest.mark.parametrize("kwargs, reason, words", [
    ({"identity": "dedelayed-remote-tiny-v1-other"}, IDENTITY_MISMATCH, "trained with"),
    ({"shape": (4, 3, 6)}, SHAPE_MISMATCH, "4x3x6 does not match local stage-1 4x3x5"),
])
def test_wrong_model_or_shape_is_refused_and_named(kwargs, reason, words):
    store = _store()
    rejection = _offer(store, 1000, **kwargs)
    assert rejection.reason == reason and words in str(rejection)
    decision = store.select(1050 * MS)
    assert (decision.mode, decision.reason) == (LOCAL_ONLY, reason)
    assert store.rejected_count == 1 and store.accepted_count == 0


def test_corrupt_payload_is_refused_and_good_features_still_used_until_stale():
    store = _store()
    _offer(store, 1000, value=5.0)
    truncated = EncodedFeatures("float16", SHAPE, b"\0" * 10)
    rejection = store.offer(truncated, model_identity=IDENTITY, stamp_ns=1033 * MS, delay_ms=0,
                            received_ns=1133 * MS)
    assert rejection.reason == BAD_PAYLOAD
    assert store.select(1100 * MS).mode == FUSED  # the last good features are still fresh
    late = store.select(1200 * MS)
    assert (late.mode, late.reason) == (LOCAL_ONLY, BAD_PAYLOAD)  # says why, not just "stale"
    nan = EncodedFeatures("float32", SHAPE, np.full(SHAPE, np.nan, "<f4").tobytes())
    assert store.offer(nan, model_identity=IDENTITY, stamp_ns=1066 * MS, delay_ms=0,
                       received_ns=1166 * MS).reason == BAD_PAYLOAD


def test_stamp_from_the_future_is_refused():
    store = _store()
    rejection = _offer(store, 1100, received_ms=1000)  # echoed stamp 100 ms after receipt
    assert rejection.reason == STAMP_IN_FUTURE and "100 ms ahead" in str(rejection)
    assert _offer(store, 1040, received_ms=1000) is None  # within the 50 ms camera skew allowance


def test_disabled_fusion_is_local_only():
    store = _store(enabled=False)
    _offer(store, 1000)
    assert store.select(1010 * MS).reason == "fusion_disabled"


def test_delay_estimator_is_robust_to_outliers():
    estimator = DelayEstimator(window=5)
    assert estimator.estimate() == (0.0, 0.0, 0)
    for tau in (100, 101, 99, 100, 900):  # one outlier (a frame paired with old features)
        estimator.add(tau)
    median, jitter, samples = estimator.estimate()
    assert (median, samples) == (100.0, 5)
    assert jitter == pytest.approx(1.4826 * 1.0)


def test_mode_changes_are_logged_once_per_episode():
    store = _store()
    episodes = ModeEpisodes()
    lines = [episodes.update(store.select(t * MS)) for t in (900, 933)]
    _offer(store, 950)
    lines += [episodes.update(store.select(t * MS)) for t in (966, 1000, 1033)]
    lines += [episodes.update(store.select(t * MS)) for t in (1200, 1233)]
    logged = [line for line in lines if line]
    assert len(logged) == 3
    assert logged[0].startswith("local-only: no_features_yet")
    assert logged[1].startswith("fusing remote features (tau 16 ms)")
    assert logged[2].startswith("switching to local-only: features_stale")
    assert episodes.frames_by_mode == {"fused": 3, "local_only": 4}


def test_signed_maps_are_verified_before_decoding_and_refusals_are_counted_by_reason():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from dedelayed_local.echo_ledger import UplinkLedger
    from dedelayed_local.feature_store import STAMP_NOT_UPLINKED
    from dedelayed_models.transport.feature_signing import BAD_SIGNATURE, UNSIGNED, FeatureSigner, FeatureVerifier

    key = Ed25519PrivateKey.generate()
    signer = FeatureSigner(key)
    ledger = UplinkLedger(window_s=1.0)
    store = _store(verifier=FeatureVerifier(key.public_key()), ledger=ledger)
    assert "verified" in store.counter_values()["feature_signatures"]
    assert "NOT verified" in _store().counter_values()["feature_signatures"]

    def offer(stamp_ms, encoded, signature, received_ms):
        return store.offer(encoded, model_identity=IDENTITY, stamp_ns=stamp_ms * MS,
                           delay_ms=100.0, received_ns=received_ms * MS, signature=signature)

    good = encode_features(np.full(SHAPE, 1.0, dtype=np.float32), "float16")
    sign = lambda stamp_ms, encoded: signer.sign(  # noqa: E731
        robot="", stamp_ns=stamp_ms * MS, delay_ms=100.0, model_identity=IDENTITY, encoded=encoded)
    ledger.record(1000 * MS)
    assert offer(1000, good, sign(1000, good), 1100) is None
    # a payload that would not even decode is refused for its signature, before decoding
    garbage = EncodedFeatures("float16", SHAPE, b"\xff" * 3)
    assert offer(1000, garbage, sign(1000, good), 1100).reason == BAD_SIGNATURE
    assert offer(1045, good, sign(1000, good), 1100).reason == BAD_SIGNATURE  # moved stamp
    assert offer(1000, good, b"", 1100).reason == UNSIGNED
    # authentic, but the robot never uplinked that stamp, or uplinked it too long ago
    assert offer(1033, good, sign(1033, good), 1100).reason == STAMP_NOT_UPLINKED
    ledger.record(2100 * MS)  # 1.1 s of camera time later: 1000 is out of the 1 s window
    assert offer(1000, good, sign(1000, good), 2150).reason == STAMP_NOT_UPLINKED
    counts = store.counter_values()
    assert (counts["features_accepted"], counts["features_rejected"]) == ("1", "5")
    assert counts["features_rejected_bad_signature"] == "2"
    assert counts["features_rejected_unsigned"] == "1"
    assert counts["features_rejected_stamp_not_uplinked"] == "2"
    assert store.select(1050 * MS).features.stamp_ns == 1000 * MS


def test_a_map_for_another_robot_and_a_replayed_map_are_refused_with_their_own_reasons():
    """The signature binds the robot: robot2 refuses what the cloud signed for robot1, even
    when it echoes robot2's own stamps; a second map echoing an answered stamp is a replay,
    refused while the accepted one is still fused."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from dedelayed_local.echo_ledger import UplinkLedger
    from dedelayed_local.feature_store import FOR_ANOTHER_ROBOT, REPLAYED
    from dedelayed_models.transport.feature_signing import BAD_SIGNATURE, FeatureSigner, FeatureVerifier

    key = Ed25519PrivateKey.generate()
    signer = FeatureSigner(key)
    ledger = UplinkLedger(window_s=5.0)
    store = _store(verifier=FeatureVerifier(key.public_key()), ledger=ledger, robot="/robot2")
    good = encode_features(np.full(SHAPE, 1.0, dtype=np.float32), "float16")

    def offer(stamp_ms, for_robot, claimed_robot=None):
        signature = signer.sign(robot=for_robot, stamp_ns=stamp_ms * MS, delay_ms=100.0,
                                model_identity=IDENTITY, encoded=good)
        return store.offer(good, model_identity=IDENTITY, stamp_ns=stamp_ms * MS, delay_ms=100.0,
                           received_ns=(stamp_ms + 100) * MS, signature=signature,
                           robot=for_robot if claimed_robot is None else claimed_robot)

    for stamp_ms in (1000, 1100, 1200):
        ledger.record(stamp_ms * MS)
    refused = offer(1000, "/robot1")
    assert refused.reason == FOR_ANOTHER_ROBOT and "/robot1" in str(refused)
    assert offer(1000, "/robot1", claimed_robot="/robot2").reason == BAD_SIGNATURE  # relabelled
    assert offer(1000, "/robot2") is None
    assert offer(1000, "/robot2").reason == REPLAYED            # the same answer again
    assert store.select(1050 * MS).features.stamp_ns == 1000 * MS   # still fused
    assert offer(1100, "/robot2") is None                        # the next answer is not a replay
    counts = store.counter_values()
    assert counts["features_rejected_for_another_robot"] == "1"
    assert counts["features_rejected_replayed"] == "1"
    assert counts["features_accepted"] == "2"
    # a robot string a peer wrote reaches the log escaped: one line, bounded
    forged = offer(1200, "/robot1\n[WARN] [link_bridge]: forged" + "x" * 200)
    assert "\n" not in str(forged) and "\\n[WARN]" in str(forged) and len(str(forged)) < 400


def test_the_uplink_ledger_forgets_after_its_window_and_stays_bounded():
    from dedelayed_local.echo_ledger import MAX_ENTRIES, UplinkLedger

    capped = UplinkLedger(window_s=100.0)
    for i in range(MAX_ENTRIES + 10):
        capped.record(i * MS)  # 4.1 s of 1 kHz stamps, inside the window: the cap bounds it
    assert len(capped) == MAX_ENTRIES and not capped.sent_recently(0)

    ledger = UplinkLedger(window_s=2.0)
    for i in range(5000):
        ledger.record(i * MS)
    newest = 4999 * MS
    assert ledger.sent_recently(newest) and ledger.sent_recently(newest - 1999 * MS)
    assert not ledger.sent_recently(newest - 2001 * MS) and not ledger.sent_recently(newest + MS)
    ledger.record(newest + 10_000 * MS)  # 10 s later: everything else expires
    assert len(ledger) == 1 and not ledger.sent_recently(newest)
    ledger.record(5 * MS)  # the camera clock went back (restart): a fresh start, not a refusal
    assert ledger.sent_recently(5 * MS) and len(ledger) == 1
    with pytest.raises(ValueError, match="must be > 0"):
        UplinkLedger(window_s=0)


def test_maps_far_outside_the_training_range_are_refused():
    from dedelayed_local.feature_store import IMPLAUSIBLE
    from dedelayed_models.transport.z_bounds import ZBounds

    bounds = ZBounds("remote", low=np.full(SHAPE[0], -2.0, np.float32),
                     high=np.full(SHAPE[0], 2.0, np.float32))
    store = _store(z_bounds=bounds)
    assert _offer(store, 1000, value=5.9) is None          # beyond training, within one span
    refused = _offer(store, 1033, value=6.5)                # more than a span beyond
    assert refused.reason == IMPLAUSIBLE and "channel 0" in str(refused)
    assert _offer(store, 1066, value=-6.5).reason == IMPLAUSIBLE
    assert store.counter_values()["features_rejected_features_implausible"] == "2"


def test_the_shipped_checkpoint_carries_its_z_bounds():
    import os

    from dedelayed_local.robot_model import RobotModel
    from dedelayed_models.shipped import SHIPPED_CHECKPOINT_DIR

    path = os.path.join(SHIPPED_CHECKPOINT_DIR, "dedelayed.pt")
    if not os.path.isfile(path):
        pytest.skip("no shipped checkpoint")
    model = RobotModel.from_checkpoint(path)
    assert model.z_bounds is not None and len(model.z_bounds.low) == model.feature_shape[0]
    assert model.z_bounds.remote_identity == model.expected_remote_identity
    floor, ceiling = model.z_bounds.limits()
    assert np.all(floor < 0) and np.all(ceiling > 0)


def test_robot_link_records_tau_of_fused_frames_and_the_camera_period():
    """The link state both robot nodes share: the segmenter's select feeds the delay estimate
    the fusion node reports, with no call between the nodes."""
    from dedelayed_local.echo_ledger import UplinkLedger
    from dedelayed_local.robot_link import RobotLink

    link = RobotLink(_store(ledger=UplinkLedger(5.0)), delay_window=5)
    assert link.expected_shape == SHAPE
    assert link.select(1000 * MS).reason == NO_FEATURES_YET and link.delay_estimate()[2] == 0
    link.ledger.record(950 * MS)
    assert _offer(link.store, 950) is None
    for t in (1000, 1033):
        assert link.select(t * MS).mode == FUSED
    assert link.select(1300 * MS).reason == STALE            # stale frames do not count
    assert link.delay_estimate() == (pytest.approx(66.5), pytest.approx(1.4826 * 16.5), 2)
    assert link.camera_period_ms() == 0.0
    link.observe_camera_period(None)
    link.observe_camera_period(33.3)
    assert link.camera_period_ms() == pytest.approx(33.3)
    with pytest.raises(ValueError, match="UplinkLedger"):
        RobotLink(_store())
