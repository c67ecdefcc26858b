"""LinkModel: delay, jitter, bandwidth, loss, order and outages, with exact expectations."""

import pytest

from dedelayed_bringup.link_emulation.link_model import (
    DROP_LOSS,
    DROP_OUTAGE,
    DROP_QUEUE_FULL,
    LinkModel,
    outage_windows_from_flat,
)


def test_fixed_delay_without_jitter_is_exact():
    link = LinkModel(delay_ms=50.0)
    for arrival_s in (0.0, 0.010, 1.5):
        decision = link.schedule(arrival_s, 1000)
        assert decision.dropped is None
        assert decision.deliver_at_s == pytest.approx(arrival_s + 0.050, abs=1e-12)


def test_bandwidth_is_serialisation_time_queued_on_a_shared_link():
    # 10 Mbit/s: 125_000 bytes = 1_000_000 bit take 0.1 s on the wire.
    link = LinkModel(delay_ms=20.0, bandwidth_mbps=10.0)
    assert link.serialisation_s(125_000) == pytest.approx(0.1)
    first = link.schedule(0.0, 125_000, stream="uplink/compressed")
    # Enters at 0.05 while the first still occupies the link until 0.1: waits 0.05 s, and
    # streams share the link (a delay report queues behind an image).
    second = link.schedule(0.05, 125_000, stream="delay_report")
    third = link.schedule(1.0, 12_500, stream="uplink/compressed")  # link idle again
    assert first.deliver_at_s == pytest.approx(0.1 + 0.020)
    assert second.queue_delay_s == pytest.approx(0.05)
    assert second.deliver_at_s == pytest.approx(0.2 + 0.020)
    assert third.queue_delay_s == 0.0
    assert third.deliver_at_s == pytest.approx(1.0 + 0.01 + 0.020)


def test_unlimited_bandwidth_has_no_serialisation_time():
    link = LinkModel(delay_ms=5.0, bandwidth_mbps=0.0)
    assert link.schedule(0.0, 10**9).deliver_at_s == pytest.approx(0.005)


def test_queue_longer_than_bound_is_tail_dropped():
    link = LinkModel(delay_ms=0.0, bandwidth_mbps=8.0, max_queue_ms=150.0)  # 1 MB/s
    sizes_arrivals = [(100_000, 0.0)] * 4  # 0.1 s each, all at once: waits 0, .1, .2, .3 s
    decisions = [link.schedule(t, size) for size, t in sizes_arrivals]
    assert [d.dropped for d in decisions] == [None, None, DROP_QUEUE_FULL, DROP_QUEUE_FULL]
    assert decisions[1].deliver_at_s == pytest.approx(0.2)
    assert link.queue_delay_s(0.0) == pytest.approx(0.2)  # dropped ones used no link time


def test_jitter_statistics_and_clipping():
    link = LinkModel(delay_ms=50.0, jitter_ms=2.0, seed=3, preserve_order=False)
    delays_ms = [(link.schedule(i * 0.1, 100).deliver_at_s - i * 0.1) * 1e3 for i in range(4000)]
    mean = sum(delays_ms) / len(delays_ms)
    std = (sum((d - mean) ** 2 for d in delays_ms) / len(delays_ms)) ** 0.5
    assert mean == pytest.approx(50.0, abs=0.15)
    assert std == pytest.approx(2.0, rel=0.05)

    clipped = LinkModel(delay_ms=1.0, jitter_ms=10.0, seed=3, preserve_order=False)
    assert all(clipped.schedule(i, 100).deliver_at_s >= i for i in range(1000))


def test_fifo_per_stream_despite_jitter():
    link = LinkModel(delay_ms=10.0, jitter_ms=5.0, seed=1)  # 1 ms spacing << 5 ms jitter
    deliveries = [link.schedule(i * 1e-3, 100, stream="a").deliver_at_s for i in range(500)]
    assert deliveries == sorted(deliveries)
    unordered = LinkModel(delay_ms=10.0, jitter_ms=5.0, seed=1, preserve_order=False)
    free = [unordered.schedule(i * 1e-3, 100, stream="a").deliver_at_s for i in range(500)]
    assert free != sorted(free)  # the same draws would reorder without the FIFO rule


def test_loss_rate_within_binomial_tolerance_and_deterministic():
    link = LinkModel(loss=0.2, seed=11)
    lost = [link.schedule(i * 0.01, 100).dropped == DROP_LOSS for i in range(10_000)]
    assert sum(lost) / len(lost) == pytest.approx(0.2, abs=0.012)  # ~3 sigma of Binomial
    again = LinkModel(loss=0.2, seed=11)
    assert lost == [again.schedule(i * 0.01, 100).dropped == DROP_LOSS for i in range(10_000)]


def test_loss_does_not_shift_the_jitter_stream():
    lossy = LinkModel(delay_ms=50.0, jitter_ms=3.0, loss=0.5, seed=5, preserve_order=False)
    clean = LinkModel(delay_ms=50.0, jitter_ms=3.0, loss=0.0, seed=5, preserve_order=False)
    for i in range(200):
        a, b = lossy.schedule(float(i), 10), clean.schedule(float(i), 10)
        if a.dropped is None:
            assert a.deliver_at_s == b.deliver_at_s


def test_run_time_switch_drops_everything_then_recovers():
    link = LinkModel(delay_ms=50.0)
    assert link.schedule(0.0, 10).dropped is None
    link.link_up = False
    assert link.is_down(0.1)
    assert link.schedule(0.1, 10).dropped == DROP_OUTAGE
    link.link_up = True
    assert link.schedule(0.2, 10).deliver_at_s == pytest.approx(0.25)


def test_scheduled_outage_window_relative_to_start():
    link = LinkModel(delay_ms=50.0, outage_windows_s=[(10.0, 3.0)], start_s=100.0)
    assert link.schedule(105.0, 10).dropped is None
    # In flight when the outage begins at 110.0: lost like a packet on a cut cable.
    assert link.schedule(109.99, 10).dropped == DROP_OUTAGE
    assert link.schedule(110.0, 10).dropped == DROP_OUTAGE
    assert link.schedule(112.999, 10).dropped == DROP_OUTAGE
    assert link.schedule(113.0, 10).deliver_at_s == pytest.approx(113.05)


def test_outage_windows_from_flat_parameter_list():
    assert outage_windows_from_flat([]) == ()
    no_outage = LinkModel(delay_ms=50.0, outage_windows_s=outage_windows_from_flat([0.0, 0.0]))
    assert no_outage.outage_windows_s == ()
    assert no_outage.schedule(-0.01, 10).dropped is None  # in flight at t=0: not cut
    assert outage_windows_from_flat([10, 3.0, 20.5, 1]) == ((10.0, 3.0), (20.5, 1.0))
    with pytest.raises(ValueError, match="odd number"):
        outage_windows_from_flat([10.0])


@pytest.mark.parametrize("kwargs, name", [
    ({"delay_ms": -1.0}, "delay_ms"), ({"jitter_ms": -0.1}, "jitter_ms"),
    ({"loss": 1.5}, "loss"), ({"bandwidth_mbps": -2.0}, "bandwidth_mbps"),
    ({"outage_windows_s": [(1.0, -1.0)]}, "negative duration")])
def test_bad_values_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LinkModel(**kwargs)
