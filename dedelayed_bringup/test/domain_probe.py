"""Test helper: an rclpy context + node on one DDS domain, spun on a background thread."""

import threading
import time


class DomainProbe:
    """Publish and subscribe on DDS domain ``domain_id`` from a test (real rclpy, no mocks)."""

    def __init__(self, domain_id: int, name: str, namespace: str = "/"):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(name, namespace=namespace, context=self.context)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True, name=f"probe-{name}")
        self._thread.start()

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            while self.context.ok():
                self._executor.spin_once(timeout_sec=0.05)
        except (ExternalShutdownException, Exception):  # noqa: BLE001 - shutting down
            pass

    def close(self) -> None:
        self.context.try_shutdown()
        self._thread.join(2.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_parameters(self, node_fqn: str, timeout_s: float = 10.0, **values) -> None:
        """Set parameters of another node through its services (what `ros2 param set` does)."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        client = self.node.create_client(SetParameters, f"{node_fqn}/set_parameters")
        assert client.wait_for_service(timeout_sec=timeout_s), f"{node_fqn} has no parameters"
        request = SetParameters.Request(
            parameters=[Parameter(k, value=v).to_parameter_msg() for k, v in values.items()])
        future = client.call_async(request)
        deadline = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert future.done(), f"set_parameters on {node_fqn} got no answer in {timeout_s} s"
        results = future.result().results
        assert all(r.successful for r in results), [r.reason for r in results]
        self.node.destroy_client(client)


def wait_until(predicate, timeout_s: float, period_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return predicate()
