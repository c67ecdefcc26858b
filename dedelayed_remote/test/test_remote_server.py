"""The inference core: one batched forward equals per-robot forwards; the per-frame feature cache
gives the uncached features bit for bit; encodings; the model."""

import numpy as np
import pytest
import torch

from dedelayed_models.modeling import (
    build_model,
    get_config,
    is_random_source,
    random_model,
    save_checkpoint,
    stage1_grid,
)
from dedelayed_models.modeling.checkpoint import identities
from dedelayed_models.transport import decode_features
from dedelayed_remote.remote_server import RemoteServer
from dedelayed_remote.robot_context import ContextSnapshot, UplinkFrame
from dedelayed_remote.served_model import load_served_model


@pytest.fixture(scope="module")
def served():
    return load_served_model(preset="tiny", seed=3)


def snapshot(robot, served, delay_ms, seed, decode_ms=1.5, period_ns=100_000_000):
    """K random frames stamped period_ns apart, the newest at 10 s + seed ns."""
    rng = np.random.default_rng(seed)
    k, (hr, wr) = served.num_frames, served.remote_hw
    frames = tuple(rng.integers(0, 256, (hr, wr, 3), dtype=np.uint8) for _ in range(k))
    stamps = tuple(10_000_000_000 + seed - (k - 1 - i) * period_ns for i in range(k))
    newest = UplinkFrame(pixels=frames[-1], stamp=stamps[-1], frame_id="cam",
                         receive_time_ns=0, arrival_monotonic_ns=0, decode_ms=decode_ms)
    return ContextSnapshot(robot=robot, frames=frames, stamps=stamps, newest=newest,
                           delay_ms=delay_ms, real_frames=k)


def test_random_model_matches_what_the_robot_builds_for_the_same_preset_and_seed(served):
    torch.manual_seed(3)   # the recipe of modeling.random_model, which the robot uses too
    robot_side = build_model(get_config("tiny")).eval()
    assert served.identity == identities(robot_side, get_config("tiny"))["remote"]
    assert is_random_source(served.source) and served.source == "random:tiny:3"
    assert served.identity != random_model("tiny", seed=4).identity["remote"]


def test_batch_of_robots_equals_each_robot_alone_with_its_own_delay(served):
    server = RemoteServer(served, local_hw=(64, 128), feature_encoding="float32")
    snaps = [snapshot("/a", served, 0.0, 1), snapshot("/b", served, 150.0, 2),
             snapshot("/c", served, 400.0, 3)]
    batched = server.serve(snaps)
    assert [a.robot for a in batched] == ["/a", "/b", "/c"]
    assert all(a.batch_size == 3 and a.error == "" for a in batched)
    for snap, answer in zip(snaps, batched):
        alone = server.serve([snap])[0]
        z_batched, z_alone = decode_features(answer.encoded), decode_features(alone.encoded)
        assert z_batched.shape == (16, 8, 16)
        np.testing.assert_allclose(z_batched, z_alone, atol=1e-5, rtol=0)
    # the delays really differ per robot: the same frames at another delay give another z
    other = server.serve([snapshot("/a", served, 400.0, 1)])[0]
    assert np.abs(decode_features(other.encoded) - decode_features(batched[0].encoded)).max() > 1e-4
    assert batched[0].compute_ms == pytest.approx(1.5 + batched[0].forward_ms + batched[0].encode_ms)


def test_features_match_the_model_with_each_frames_age(served):
    server = RemoteServer(served, local_hw=(64, 128))
    snaps = [snapshot("/a", served, 33.0, 5), snapshot("/b", served, 99.0, 6, period_ns=200_000_000)]
    z, forward_ms, _ = server.features_for(snaps)
    k = served.num_frames
    ages = torch.tensor([[33.0 + 100.0 * (k - 1 - i) for i in range(k)],
                         [99.0 + 200.0 * (k - 1 - i) for i in range(k)]])
    torch.testing.assert_close(torch.tensor([s.frame_ages_ms() for s in snaps]), ages)
    with torch.inference_mode():
        x = torch.from_numpy(np.stack([np.stack(s.frames) for s in snaps])).permute(0, 1, 4, 2, 3).float() / 255.0
        expected = served.remote.features(x, ages, (8, 16)).numpy()
    np.testing.assert_allclose(z, expected, atol=1e-5, rtol=0)
    assert forward_ms > 0 and server.warm_up() > 0
    bad = snapshot("/a", served, 0.0, 7)
    bad = ContextSnapshot(bad.robot, tuple(f.astype(np.float32) for f in bad.frames), bad.stamps,
                          bad.newest, bad.delay_ms, bad.real_frames)
    with pytest.raises(ValueError, match="uint8"):
        server.features_for([bad])


def test_feature_cache_gives_the_uncached_features_bit_for_bit_on_a_stream(served):
    """A live stream: each answer adds one frame per robot, contexts start padded, two robots
    share stamps. Every frame is encoded once with the cache, K times per answer without."""
    from dedelayed_remote.snapshot_stream import snapshot_stream

    cached = RemoteServer(served, local_hw=(64, 128), feature_encoding="float32")
    uncached = RemoteServer(served, local_hw=(64, 128), feature_encoding="float32", feature_cache=False)
    stream = snapshot_stream(cached, robots=2, rate_hz=10.0, delay_ms=250.0)
    answers = 0
    for _ in range(served.num_frames + 3):
        batch = next(stream)
        z_cached = cached.features_for(batch)[0]
        z_uncached = uncached.features_for(batch)[0]
        assert np.array_equal(z_cached, z_uncached)
        answers += len(batch)
    assert cached.cache.frames_encoded == answers            # one backbone pass per new frame
    # and the cache really is keyed by stamp: another robot's frame with the same stamp differs
    assert not np.array_equal(*cached.features_for(next(stream))[0])


@pytest.mark.parametrize("encoding, tolerance", [("float16", 2e-3), ("int8", None), ("float32", 0.0)])
def test_each_encoding_round_trips_within_its_bound(served, encoding, tolerance):
    from dedelayed_models.transport import max_abs_error_bound

    exact = RemoteServer(served, local_hw=(64, 128), feature_encoding="float32")
    server = RemoteServer(served, local_hw=(64, 128), feature_encoding=encoding)
    snap = snapshot("/a", served, 50.0, 7)
    z = decode_features(exact.serve([snap])[0].encoded)
    answer = server.serve([snap])[0]
    assert answer.encoded.encoding == encoding
    bound = max_abs_error_bound(z, encoding) if tolerance is None else tolerance * np.abs(z).max()
    assert np.abs(decode_features(answer.encoded) - z).max() <= bound + 1e-7


def test_local_size_sets_the_feature_grid(served):
    server = RemoteServer(served, local_hw=(100, 200))
    assert server.feature_shape == (16, *stage1_grid((100, 200))) == (16, 13, 25)
    assert server.serve([snapshot("/a", served, 0.0, 1)])[0].encoded.shape == (16, 13, 25)
    with pytest.raises(ValueError, match="feature_encoding"):
        RemoteServer(served, local_hw=(64, 128), feature_encoding="bfloat16")


def test_checkpoint_k_device_and_errors(tmp_path):
    torch.manual_seed(11)
    model = build_model("tiny").eval()
    path = tmp_path / "tiny.pt"
    saved = save_checkpoint(path, model.remote, get_config("tiny"))
    loaded = load_served_model(checkpoint=str(path), preset="small", num_frames=4)
    assert loaded.identity == saved["remote"] and loaded.config.name == "tiny"
    assert not is_random_source(loaded.source)
    with pytest.raises(ValueError, match="K=4"):
        load_served_model(checkpoint=str(path), num_frames=3)
    with pytest.raises(FileNotFoundError):
        load_served_model(checkpoint=str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="'tpu'"):
        load_served_model(preset="tiny", device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device:=cpu"):
            load_served_model(preset="tiny", device="cuda")


@pytest.mark.cuda
def test_cuda_batch_matches_cpu(served):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this host")
    gpu = load_served_model(preset="tiny", seed=3, device="cuda")
    snaps = [snapshot("/a", served, 10.0, 1), snapshot("/b", served, 200.0, 2)]
    cpu_z = [decode_features(a.encoded) for a in RemoteServer(served, local_hw=(64, 128),
                                                              feature_encoding="float32").serve(snaps)]
    gpu_z = [decode_features(a.encoded) for a in RemoteServer(gpu, local_hw=(64, 128),
                                                              feature_encoding="float32").serve(snaps)]
    for c, g in zip(cpu_z, gpu_z):
        np.testing.assert_allclose(g, c, atol=1e-3, rtol=1e-3)


def test_remote_segmentation_is_the_predictive_head_of_the_same_pass_at_the_local_size(served):
    """The remote-only baseline: the predictive head on the tokens z came from (the robot's
    delay, so it predicts the same present), at the robot's local size; no second 3-D pass."""
    server = RemoteServer(served, local_hw=(64, 128), feature_encoding="float32")
    snaps = [snapshot("/a", served, 150.0, 1), snapshot("/b", served, 30.0, 2)]
    answers = server.serve(snaps, segment=True)
    class_ids = np.stack([a.class_ids for a in answers])
    assert class_ids.shape == (2, 64, 128) and class_ids.dtype == np.uint8 and class_ids.max() < 19
    frames = torch.from_numpy(np.stack([np.stack(s.frames) for s in snaps]))
    frames = frames.permute(0, 1, 4, 2, 3).float() / 255.0
    ages = torch.tensor([s.frame_ages_ms() for s in snaps])
    with torch.inference_mode():
        expected = served.remote(frames, ages, label_hw=(64, 128)).argmax(1)
    np.testing.assert_array_equal(class_ids, expected.numpy().astype(np.uint8))
    plain = server.serve(snaps)
    assert plain[0].class_ids is None
    np.testing.assert_array_equal(decode_features(plain[0].encoded), decode_features(answers[0].encoded))
