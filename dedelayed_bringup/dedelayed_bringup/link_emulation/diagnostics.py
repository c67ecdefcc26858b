"""The link emulator's /diagnostics: one DiagnosticStatus per relayed topic plus one for timing.

Per topic (name "<node>: <direction> <topic>"): received, relayed, relayed_bytes, dropped_* per
reason (outage, queue_full, loss), in_flight (held by the emulator now), link_up, and the
direction's configured delay / jitter / loss / bandwidth. Level WARN while the link is down.
The "<node>: delivery timing" status gives the scheduler's lateness (delivered - planned) [ms]
and the count of each kind of trouble (``trouble_<kind>``: incompatible QoS, failed deliveries).
"""

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue


def _values(pairs):
    return [KeyValue(key=key, value=str(value)) for key, value in pairs]


def link_statuses(node_name, directions, scheduler, now_s, trouble=None):
    """DiagnosticStatus list for ``directions`` (RelayDirection) at ``now_s`` (monotonic) [s];
    ``trouble``: EpisodeLog.totals(), {(subject, kind): count}."""
    statuses = []
    for direction in directions:
        model = direction.model
        down = model.is_down(now_s)
        why = "switched off (link_up=false)" if not model.link_up else "scheduled outage"
        for spec, topic, counters in direction.topics:
            status = DiagnosticStatus(
                level=DiagnosticStatus.WARN if down else DiagnosticStatus.OK,
                name=f"{node_name}: {direction.name} {topic}",
                message=f"link down: {why}" if down else "relaying",
                hardware_id="emulated_link")
            status.values = _values([
                *counters.snapshot().items(),
                ("in_flight", scheduler.pending((direction.name, spec.topic))),
                ("link_up", str(not down).lower()),
                ("queue_delay_ms", f"{model.queue_delay_s(now_s) * 1e3:.3f}"),
                ("delay_ms", model.delay_ms), ("jitter_ms", model.jitter_ms),
                ("loss", model.loss), ("bandwidth_mbps", model.bandwidth_mbps),
                ("type", spec.type_name), ("qos", spec.qos)])
            statuses.append(status)
    lateness = scheduler.lateness_stats_ms()
    timing = DiagnosticStatus(
        level=DiagnosticStatus.OK, name=f"{node_name}: delivery timing",
        message="delivered - planned time over the last deliveries [ms]",
        hardware_id="emulated_link")
    timing.values = _values(
        [(f"lateness_{key}", f"{value:.3f}" if key != "count" else value)
         for key, value in lateness.items()] + [("in_flight_total", scheduler.pending())]
        + sorted((f"trouble_{kind}", n) for kind, n in _by_kind(trouble or {}).items()))
    statuses.append(timing)
    return statuses


def _by_kind(totals):
    out = {}
    for (_, kind), count in totals.items():
        out[kind] = out.get(kind, 0) + count
    return out
