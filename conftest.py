"""Shared pytest set-up for every package's tests (the README's `make test` runs them all).

- Tests marked ``ros`` need the built workspace (rclpy + dedelayed_msgs); elsewhere they are
  skipped with the command that provides it.
- ROS traffic of tests stays on this host (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and each
  graph test gets its own DDS domain, so parallel runs and other sessions do not cross-talk.
"""

import importlib.util
import os
import random

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
