"""Managed (lifecycle) nodes: one base class for the robot's nodes and the cloud node.

ROS 2 managed nodes move through unconfigured -> inactive -> active and back, driven by
``ros2 lifecycle set <node> configure|activate|deactivate|cleanup|shutdown`` or by a lifecycle
manager (Nav2 style bringups). What each transition means for a Dedelayed node:

- configure: read and check the parameters, load and check the model; nothing is received or
  sent yet. A failure leaves the node unconfigured and says why in one log line.
- activate: subscribe, start timers and worker threads, enable the publishers.
- deactivate: stop all of that; the model stays loaded, so activating again is quick.
- cleanup: free the model; the node is as if just started.

Subclasses write plain methods ``configure()``, ``activate()``, ``deactivate()`` and ``cleanup()``
(no return codes). ``configure`` makes its publishers with ``output()`` (lifecycle publishers:
silent while inactive, destroyed by cleanup); ``activate`` registers its subscriptions and timers
with ``while_active``, so deactivate destroys them. Every managed node declares ``autostart``
(AUTOSTART_PARAMETER): true (the default, and what the launch files pass) makes ``run_nodes``
configure and activate it at start-up, so a plain ``ros2 run`` or ``ros2 launch`` segments at once;
false leaves it unconfigured for ``ros2 lifecycle set``. It is a row of each node's parameter table,
so the generated YAML files and README tables list it.
"""

from typing import Callable, List

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from .params import AUTOSTART_PARAMETER
from .ros_main import startup_errors

SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE


class TransitionFailed(RuntimeError):
    """A transition of a managed node failed; the message says which node, which transition and why."""


class ManagedNode(LifecycleNode):
    """A lifecycle node whose transitions are plain methods; see the module docstring."""

    def __init__(self, node_name: str, **kwargs):
        super().__init__(node_name, **kwargs)
        self._active_entities: List = []
        self._outputs: List = []
        self.configured = False
        self.active = False
        self.last_failure = ""

    @property
    def autostart(self) -> bool:
        """The ``autostart`` parameter (each managed node's table holds AUTOSTART_PARAMETER)."""
        return bool(self.get_parameter(AUTOSTART_PARAMETER.name).value)

    # --- what subclasses write ---------------------------------------------------------------
    def configure(self) -> None:
        """Read parameters, load the model (raise ValueError & co. naming the problem)."""

    def activate(self) -> None:
        """Subscribe, start timers and threads (register them with ``while_active``)."""

    def deactivate(self) -> None:
        """Stop what ``activate`` started beyond the registered entities (threads)."""

    def cleanup(self) -> None:
        """Free what ``configure`` loaded."""

    def output(self, msg_type, topic: str, qos):
        """A lifecycle publisher made by ``configure``: publishes only while active."""
        publisher = self.create_lifecycle_publisher(msg_type, topic, qos)
        self._outputs.append(publisher)
        return publisher

    def while_active(self, entity):
        """Register a subscription or timer made by ``activate``: deactivate destroys it."""
        self._active_entities.append(entity)
        return entity

    # --- rclpy's transition callbacks ---------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = self._run("configure", self.configure)
        self.configured = result == SUCCESS
        if not self.configured:
            self._destroy_outputs()
        return result

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = self._run("activate", self.activate)
        if result != SUCCESS:
            self._destroy_active_entities()
            return result
        self.active = True
        return super().on_activate(state)   # enables the lifecycle publishers

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        super().on_deactivate(state)        # disables the lifecycle publishers first
        self._stop_activity()
        return SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return SUCCESS

    def destroy_node(self):
        """Stop and free everything, whatever the state (process exit)."""
        self._release()
        return super().destroy_node()

    # --- helpers ------------------------------------------------------------------------------
    def start_managed(self) -> None:
        """configure + activate (``autostart``); TransitionFailed says which step failed and why."""
        for name, trigger in (("configure", self.trigger_configure),
                              ("activate", self.trigger_activate)):
            if trigger() != SUCCESS:
                raise TransitionFailed(f"{self.get_fully_qualified_name()}: {name} failed: "
                                       f"{self.last_failure or 'see the log above'}")

    def _run(self, name: str, step: Callable[[], None]) -> TransitionCallbackReturn:
        try:
            step()
        except startup_errors() as error:
            self.last_failure = str(error)
            self.get_logger().error(f"{name} failed: {error}")
            return FAILURE
        self.last_failure = ""
        self.get_logger().info(f"{name}d")   # "configured", "activated"
        return SUCCESS

    def _destroy_active_entities(self) -> None:
        for entity in self._active_entities:
            destroy = (self.destroy_timer if hasattr(entity, "timer_period_ns")
                       else self.destroy_subscription)
            destroy(entity)
        self._active_entities.clear()

    def _stop_activity(self) -> None:
        if self.active:
            self.active = False
            self._destroy_active_entities()
            self.deactivate()

    def _release(self) -> None:
        self._stop_activity()
        if self.configured:
            self.configured = False
            self.cleanup()
        self._destroy_outputs()

    def _destroy_outputs(self) -> None:
        for publisher in self._outputs:
            self.destroy_lifecycle_publisher(publisher)
        self._outputs.clear()
