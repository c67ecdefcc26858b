"""Link emulator: relays topics between the robot's and the cloud's DDS domains over an
emulated network (delay, jitter, loss, bandwidth, outages), in user space.

One process holds two rclpy Contexts, one per DDS domain. Messages are relayed as serialized
bytes (never deserialised, so any type and any size crosses unchanged); each direction's
LinkModel decides when, and whether, a message comes out on the other side, and one
DeliveryScheduler thread publishes it at that time.

Parameters: see link_emulation/params.py (and config/link_emulator.yaml). The node's parameter
services and its /diagnostics live in the ROBOT domain; in the cloud domain the emulator shows
as a node of the same name without parameter services.

    ros2 run dedelayed_bringup link_emulator --ros-args -r __ns:=/robot1 \\
        -p robot_domain_id:=0 -p cloud_domain_id:=1 -p uplink_delay_ms:=50.0
"""

import os
import sys
import threading
import time
from functools import partial

from dedelayed_bringup.link_emulation.delivery_scheduler import DeliveryScheduler
from dedelayed_bringup.link_emulation.link_model import DROP_OUTAGE, LinkModel, outage_windows_from_flat
from dedelayed_bringup.link_emulation.params import NODE_NAME, PARAMETER_BY_NAME, PARAMETERS
from dedelayed_bringup.relay_topics import TopicCounters, parse_topic_spec, reader_qos, writer_qos
from dedelayed_link.params import declare_parameters
from dedelayed_link.ros_main import sigint_raises_keyboard_interrupt
from dedelayed_models.episode_log import EpisodeLog

DIRECTIONS = ("uplink", "downlink")


class RelayDirection:
    """One direction: subscriptions (raw) in the source domain, publishers in the sink domain."""

    def __init__(self, name, model, source_node, sink_node, topic_specs, scheduler, episodes):
        self.name = name
        self.episodes = episodes
        self.model = model
        self.scheduler = scheduler
        self.topics = []  # (TopicSpec, resolved name, TopicCounters)
        from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks

        for spec in topic_specs:
            counters = TopicCounters()
            publisher = sink_node.create_publisher(
                spec.msg_type, spec.topic, writer_qos(spec.qos),
                event_callbacks=PublisherEventCallbacks(
                    incompatible_qos=partial(self._incompatible, sink_node, spec, "consumer")))
            source_node.create_subscription(
                spec.msg_type, spec.topic,
                partial(self._on_message, spec.topic, publisher, counters), reader_qos(spec.qos),
                raw=True, event_callbacks=SubscriptionEventCallbacks(
                    incompatible_qos=partial(self._incompatible, source_node, spec, "producer")))
            self.topics.append((spec, publisher.topic_name, counters))

    def _incompatible(self, node, spec, who, event) -> None:
        # DDS silently never matches incompatible endpoints; say so once per episode, with the fix.
        self.episodes.event("incompatible_qos", (
            f"a {who} has QoS incompatible with the relay's '{spec.qos}' "
            f"({event.last_policy_kind.name}); "
            + ("a best-effort producer needs qos 'sensor' in the topic spec, or publish reliable"
               if who == "producer" else "the relay publishes reliable, volatile")),
            subject=f"{self.name} '{spec.topic}'")

    def _on_message(self, stream, publisher, counters, serialized: bytes) -> None:
        counters.count_received()
        decision = self.model.schedule(time.monotonic(), len(serialized), stream=stream)
        if decision.dropped is not None:
            counters.count_dropped(decision.dropped)
            return
        self.scheduler.submit(
            decision.deliver_at_s, partial(self._deliver, publisher, counters, serialized),
            tag=(self.name, stream))

    def _deliver(self, publisher, counters, serialized: bytes) -> None:
        if not self.model.link_up:  # switched off while the message was in flight
            counters.count_dropped(DROP_OUTAGE)
            return
        publisher.publish(serialized)
        counters.count_relayed(len(serialized))


class LinkEmulator:
    """The two nodes, the two link models and the scheduler; ``spin()`` until shutdown."""

    def __init__(self, args, robot_domain_id: int, cloud_domain_id: int):
        import rclpy

        self.robot_context, self.cloud_context = rclpy.Context(), rclpy.Context()
        self._cloud_thread = None
        self._destroyed = False
        rclpy.init(args=args, context=self.robot_context, domain_id=robot_domain_id)
        rclpy.init(args=args, context=self.cloud_context, domain_id=cloud_domain_id)
        try:
            self._build(rclpy)
        except BaseException:
            self.robot_context.try_shutdown()
            self.cloud_context.try_shutdown()
            raise

    def _build(self, rclpy) -> None:
        from diagnostic_msgs.msg import DiagnosticArray

        self.robot_node = rclpy.create_node(NODE_NAME, context=self.robot_context)
        # Same name in the cloud domain (so the graph shows who relays), but parameters and
        # /rosout belong to the robot-domain node only (one logger name per process).
        self.cloud_node = rclpy.create_node(
            NODE_NAME, context=self.cloud_context, start_parameter_services=False,
            enable_rosout=False)
        node = self.robot_node
        declare_link_parameters(node)
        value = lambda name: node.get_parameter(name).value  # noqa: E731

        start_s = time.monotonic()
        windows = outage_windows_from_flat(value("outage_windows_s"))
        self.models = {}
        for offset, direction in enumerate(DIRECTIONS):
            try:
                self.models[direction] = LinkModel(
                    delay_ms=value(f"{direction}_delay_ms"),
                    jitter_ms=value(f"{direction}_jitter_ms"),
                    loss=value(f"{direction}_loss"),
                    bandwidth_mbps=value(f"{direction}_bandwidth_mbps"),
                    max_queue_ms=value(f"{direction}_max_queue_ms"),
                    seed=value("seed") + offset, outage_windows_s=windows, start_s=start_s)
            except ValueError as error:
                raise ValueError(f"{direction}_* parameters: {error}") from error
            self.models[direction].link_up = value("link_up")
        node.add_on_set_parameters_callback(self._on_set_parameters)

        # Trouble is logged once per episode (dedelayed_models.episode_log), counted always.
        self.episodes = EpisodeLog(warn=node.get_logger().warning, info=node.get_logger().info)
        self.scheduler = DeliveryScheduler(on_error=lambda e: self.episodes.event(
            "delivery_failed", f"{type(e).__name__}: {e}")).start()
        specs = {d: [parse_topic_spec(s) for s in value(f"{d}_topics")] for d in DIRECTIONS}
        self.directions = [
            RelayDirection("uplink", self.models["uplink"], self.robot_node, self.cloud_node,
                           specs["uplink"], self.scheduler, self.episodes),
            RelayDirection("downlink", self.models["downlink"], self.cloud_node,
                           self.robot_node, specs["downlink"], self.scheduler, self.episodes),
        ]
        self._diagnostics = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        node.create_timer(value("diagnostics_period_s"), self.publish_diagnostics)
        for d in self.directions:
            m = d.model
            node.get_logger().info(
                f"{d.name}: {m.delay_ms:g} +- {m.jitter_ms:g} ms, loss {m.loss:g}, "
                f"{'unlimited' if m.bandwidth_mbps <= 0 else f'{m.bandwidth_mbps:g} Mbit/s'}, "
                f"topics {[t[1] for t in d.topics]}")

    def _on_set_parameters(self, parameters):
        from rcl_interfaces.msg import SetParametersResult

        for parameter in parameters:
            if parameter.name == "link_up":
                for model in self.models.values():
                    model.link_up = bool(parameter.value)
                self.robot_node.get_logger().warning(
                    f"link switched {'UP' if parameter.value else 'DOWN'}")
        return SetParametersResult(successful=True)

    def publish_diagnostics(self) -> None:
        from diagnostic_msgs.msg import DiagnosticArray

        from dedelayed_bringup.link_emulation.diagnostics import link_statuses

        self.episodes.flush()
        array = DiagnosticArray()
        array.header.stamp = self.robot_node.get_clock().now().to_msg()
        array.status = link_statuses(self.robot_node.get_fully_qualified_name(),
                                     self.directions, self.scheduler, time.monotonic(),
                                     self.episodes.totals())
        self._diagnostics.publish(array)

    def spin(self) -> None:
        """Serve both domains until either context shuts down (SIGINT / SIGTERM)."""
        self._cloud_thread = threading.Thread(
            target=_spin_until_shutdown, args=(self.cloud_node, self.cloud_context),
            name="cloud_domain", daemon=True)
        self._cloud_thread.start()
        # The "ready" line (tests and the demo wait for it): printed once both domains spin.
        self.robot_node.get_logger().info(
            f"relaying robot domain {self.robot_context.get_domain_id()} <-> cloud domain "
            f"{self.cloud_context.get_domain_id()}; "
            f"scheduled outages {list(self.models['uplink'].outage_windows_s) or 'none'}")
        _spin_until_shutdown(self.robot_node, self.robot_context, other=self.cloud_context)

    def destroy(self) -> None:
        """Stop in an order that never destroys a node another thread is still spinning."""
        if self._destroyed:
            return
        self._destroyed = True
        self.robot_context.try_shutdown()
        self.cloud_context.try_shutdown()
        if self._cloud_thread is not None:
            self._cloud_thread.join(5.0)
        discarded = self.scheduler.stop()
        stats = self.scheduler.lateness_stats_ms()
        print(f"[{NODE_NAME}] stopped; {discarded} messages were in flight; delivery lateness "
              f"median {stats['median_ms']:.3f} ms, p99 {stats['p99_ms']:.3f} ms", flush=True)
        for node in (self.robot_node, self.cloud_node):
            node.destroy_node()


def declare_link_parameters(node) -> None:
    """Declare every parameter of link_emulation.params.PARAMETERS on ``node``."""
    declare_parameters(node, PARAMETERS)


def _spin_until_shutdown(node, context, other=None) -> None:
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        # spin_once with a timeout, so Python signal handlers run and a dead peer is noticed.
        while context.ok() and (other is None or other.ok()):
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException, rclpy.executors.ShutdownException):
        pass
    finally:
        executor.shutdown(timeout_sec=1.0)


def resolve_domain_ids(args) -> tuple:
    """Read robot_domain_id / cloud_domain_id from the command line before any context exists.

    A context's DDS domain is fixed when it is created, but the ids are node parameters (so
    they live in the same params file as the rest). So a short-lived node of the same name
    reads them through rcl's own parameter rules (--params-file, -p, node-name matching).
    """
    import rclpy

    context = rclpy.Context()
    rclpy.init(args=args, context=context)
    try:
        node = rclpy.create_node(NODE_NAME, context=context, start_parameter_services=False)
        robot, cloud = (
            node.declare_parameter(name, PARAMETER_BY_NAME[name].default).value
            for name in ("robot_domain_id", "cloud_domain_id"))
        node.destroy_node()
    finally:
        context.try_shutdown()
    if robot == -1:
        robot = int(os.environ.get("ROS_DOMAIN_ID", "0") or 0)
    if cloud == -1:
        cloud = robot + 1
    for name, domain in (("robot_domain_id", robot), ("cloud_domain_id", cloud)):
        if not 0 <= domain <= 232:
            raise ValueError(f"{name}={domain} is not a DDS domain id; use 0-232 (or -1)")
    if robot == cloud:
        raise ValueError(
            f"robot_domain_id and cloud_domain_id are both {robot}; the emulator would relay "
            "its own output back in a loop. Give the cloud another domain, e.g. "
            f"-p cloud_domain_id:={robot + 1}")
    return robot, cloud


def main(args=None) -> int:
    args = sys.argv if args is None else args
    sigint_raises_keyboard_interrupt()  # its spin loop stops on KeyboardInterrupt
    try:
        robot_domain_id, cloud_domain_id = resolve_domain_ids(args)
        emulator = LinkEmulator(args, robot_domain_id, cloud_domain_id)
    except ValueError as error:
        print(f"[{NODE_NAME}] error: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:  # Ctrl-C / SIGINT while starting: a normal stop
        return 0
    try:
        emulator.spin()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            emulator.destroy()
        except KeyboardInterrupt:  # a second Ctrl-C while stopping: finish stopping anyway
            emulator.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
