"""Shared pytest set-up for every package's tests (the README's `make test` runs them all).

- Tests marked ``ros`` need the built workspace (rclpy + dedelayed_msgs); elsewhere they are
  skipped with the command that provides it.
- ROS traffic of tests stays on this host (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and each
  graph test gets its own DDS domain, so parallel runs and other sessions do not cross-talk.
"""

import contextlib
import importlib.util
import os
import random
import time

import pytest

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")

_ROS_MISSING = None
if importlib.util.find_spec("rclpy") is None:
    _ROS_MISSING = "rclpy is not importable"
elif importlib.util.find_spec("dedelayed_msgs") is None:
    _ROS_MISSING = "dedelayed_msgs is not built"


def pytest_collection_modifyitems(config, items):
    if _ROS_MISSING is None:
        return
    skip = pytest.mark.skip(
        reason=f"{_ROS_MISSING}: run `make test`, or `make setup && source tools/workspace_env.sh`")
    for item in items:
        if "ros" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def ros_domain_id(monkeypatch):
    """A DDS domain id of this test's own (also exported for child processes)."""
    # 0-101 and 215-232 are valid for every participant count; stay in between and away
    # from 0 (the default domain of anything else running on the machine).
    domain_id = random.SystemRandom().randint(120, 210)
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain_id))
    return domain_id


@pytest.fixture
def ros_context(ros_domain_id):
    """An initialised rclpy context on the test's own domain, shut down afterwards."""
    import rclpy

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain_id)
    yield context
    context.try_shutdown()


@pytest.fixture
def wait_until_answered():
    """``wait(publish_probe, answered, spin_until, timeout_s)``: publish probe frames until the
    robot answers one, so a graph test's counted frames start once DDS has matched both ends.

    ``get_subscription_count()`` on the camera publisher only says *this* side has matched the
    robot's readers; a best-effort frame (or its reliable answer) sent before the robot's side has
    matched back is lost without error. ``publish_probe()`` publishes one frame and returns its
    stamp [ns]; ``answered(stamp_ns)`` says whether the robot's output for it has arrived.
    """
    def wait(publish_probe, answered, spin_until, timeout_s: float = 30.0, retry_s: float = 1.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            stamp_ns = publish_probe()
            if spin_until(lambda: answered(stamp_ns), retry_s):
                return True
        return False
    return wait


@pytest.fixture
def hosts():
    """(robot, cloud): two network namespaces behind a router (dedelayed_bringup transport/netns.py),
    torn down afterwards; skips, saying why, where namespaces cannot be made (not root, no `ip`)."""
    from dedelayed_bringup.transport.netns import NetnsUnavailable, routed_hosts

    with contextlib.ExitStack() as namespaces:
        try:  # only entering may skip: a failure tearing them down is an error
            robot, cloud = namespaces.enter_context(routed_hosts())
        except NetnsUnavailable as error:
            pytest.skip(f"cross-host check needs network namespaces: {error}")
        yield robot, cloud
