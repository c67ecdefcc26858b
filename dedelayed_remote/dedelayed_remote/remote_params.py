"""The remote node's parameters: one table (name, default, meaning) and their validation.

``config/remote.yaml`` and the README table list the same names and defaults (a test checks the
YAML against this table both ways). Plain Python, so launch checks and tests need no rclpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from dedelayed_link.contract import REMOTE_SEGMENTATION
from dedelayed_link.params import AUTOSTART_PARAMETER, Parameter, as_float, defaults
from dedelayed_models.data.context_timing import delay_bound_ms
from dedelayed_models.shipped import CHECKPOINT_CHOICES, DEFAULT_CHECKPOINT
from dedelayed_models.transport import ENCODINGS

NODE_NAME = "remote_node"

# One row per parameter (dedelayed_link.params); defaults equal config/remote.yaml.
PARAMETERS = (
    Parameter("checkpoint", DEFAULT_CHECKPOINT, f"Remote or dedelayed model: {CHECKPOINT_CHOICES}."),
    Parameter("preset", "small", "Model preset (tiny/small/camvid/paper) of checkpoint 'random'; a "
                                 "checkpoint carries its own."),
    Parameter("seed", 0, "torch seed for random weights; the robot must use the same to match identities."),
    Parameter("device", "cpu", "Inference device: cpu, cuda or cuda:N (cuda fails clearly without a GPU)."),
    Parameter("num_frames", 0, "Context length K [frames]; 0 = the model's. The model fixes K: any other "
                               "value is an error."),
    Parameter("feature_encoding", "float16", "FeatureMap payload encoding: float16, int8 (per-channel "
                                             "scale/offset) or float32."),
    Parameter("robot_namespaces", [""], "Robots served, one namespace each ('/robot1'); '' = the node's "
                                        "own namespace (relative topic names)."),
    Parameter("max_frame_age_ms", 500.0, "Drop a pending frame that arrived on the cloud longer ago than "
                                         "this when the forward pass starts, and restart a robot's "
                                         "context when its stamps jump by more than this [ms]; <= 0 "
                                         "disables both."),
    Parameter("max_answer_rate_hz", 30.0, "Fair share: the most answers per second one robot gets [Hz]; a "
                                          "robot uplinking faster waits, its newest frame replacing the "
                                          "waiting one (counted in frames_rate_capped); 0 = no cap."),
    Parameter("default_delay_ms", 100.0, "Delay to condition on before a robot's first DelayReport [ms]."),
    Parameter("max_delay_ms", 0.0, "Largest delay a DelayReport may set [ms]: a larger one is clamped to "
                                   "it (and said), a negative or non-finite one refused; 0 = the largest "
                                   "delay the checkpoint was trained for (600 ms without a record)."),
    Parameter("max_uplink_pixels", 4_194_304, "Largest uplink frame accepted [px, height x width], read "
                                              "from the WebP header before decoding; larger ones are "
                                              "refused unread (default 2048 x 2048)."),
    Parameter("local_height", 0, "Robot local model input height [px], sets z's grid (H/8); 0 = preset's."),
    Parameter("local_width", 0, "Robot local model input width [px], sets z's grid (W/8); 0 = preset's."),
    Parameter("diagnostics_period_s", 1.0, "Period of /diagnostics messages [s]."),
    Parameter("publish_remote_segmentation", False, "Also publish the cloud's own answer "
                                                    f"<ns>/{REMOTE_SEGMENTATION.name} (mono8 trainIds at "
                                                    "the local size: the predictive head on the pass that "
                                                    "made z, at the robot's delay): the remote-only "
                                                    "baseline of the demo."),
    Parameter("feature_signing_key", "", "Ed25519 private key (PEM, e.g. the cloud key of "
                                         "link_certificates) that signs every FeatureMap; '' = "
                                         "unsigned (said in diagnostics; robots with "
                                         "feature_verify_key refuse them)."),
    AUTOSTART_PARAMETER,
)

PARAMETER_BY_NAME = {p.name: p for p in PARAMETERS}

_NAMESPACE = re.compile(r"^(/[A-Za-z_][A-Za-z0-9_]*)+$")


def normalize_namespace(namespace: str) -> str:
    """'' stays '' (the node's own namespace); 'robot1' / '/robot1/' -> '/robot1'."""
    text = str(namespace).strip()
    if not text:
        return ""
    text = "/" + text.strip("/")
    if not _NAMESPACE.match(text):
        raise ValueError(f"robot namespace '{namespace}' is not a valid ROS namespace; use "
                         "letters, digits and '_' in '/'-separated tokens, e.g. '/robot1'")
    return text


@dataclass(frozen=True)
class RemoteNodeSettings:
    checkpoint: str
    preset: str
    seed: int
    device: str
    num_frames: int
    feature_encoding: str
    robot_namespaces: List[str]
    max_frame_age_ms: float
    max_answer_rate_hz: float
    default_delay_ms: float
    max_delay_ms: float
    max_uplink_pixels: int
    local_height: int
    local_width: int
    diagnostics_period_s: float
    publish_remote_segmentation: bool
    feature_signing_key: str
    autostart: bool

    @classmethod
    def from_values(cls, values: Dict[str, Any]) -> "RemoteNodeSettings":
        """Typed, checked settings from parameter values (missing keys take the defaults)."""
        unknown = set(values) - set(PARAMETER_BY_NAME)
        if unknown:
            raise ValueError(f"unknown remote_node parameters {sorted(unknown)}; known: {sorted(PARAMETER_BY_NAME)}")
        v = {**defaults(PARAMETERS), **values}
        for p in PARAMETERS:
            if isinstance(p.default, float):
                v[p.name] = as_float(p.name, v[p.name])
        if v["feature_encoding"] not in ENCODINGS:
            raise ValueError(f"feature_encoding '{v['feature_encoding']}' is unknown; use one of {ENCODINGS}")
        if v["num_frames"] < 0:
            raise ValueError(f"num_frames must be 0 (the model's K) or positive, got {v['num_frames']}")
        if (v["local_height"] > 0) != (v["local_width"] > 0) or min(v["local_height"], v["local_width"]) < 0:
            raise ValueError(f"local_height={v['local_height']} local_width={v['local_width']}: set both "
                             "to the robot's local input size in pixels, or both to 0 (the preset's)")
        if not isinstance(v["publish_remote_segmentation"], bool):
            raise ValueError("parameter publish_remote_segmentation must be true or false, got "
                             f"{v['publish_remote_segmentation']!r}")
        if v["max_answer_rate_hz"] < 0:
            raise ValueError(f"max_answer_rate_hz must be >= 0 [Hz] (0 = no cap), got "
                             f"{v['max_answer_rate_hz']}; e.g. 30.0, a camera's rate")
        if v["default_delay_ms"] < 0:
            raise ValueError(f"default_delay_ms must be >= 0, got {v['default_delay_ms']}")
        if v["max_delay_ms"] < 0:
            raise ValueError(f"max_delay_ms must be >= 0 (0 = the model's trained range), got "
                             f"{v['max_delay_ms']}")
        if v["max_uplink_pixels"] < 1:
            raise ValueError(f"max_uplink_pixels must be >= 1 [px], got {v['max_uplink_pixels']}; "
                             "e.g. 4194304 for 2048 x 2048")
        if v["diagnostics_period_s"] <= 0:
            raise ValueError(f"diagnostics_period_s must be > 0, got {v['diagnostics_period_s']}")
        namespaces = [normalize_namespace(n) for n in (v["robot_namespaces"] or [])]
        if not namespaces:
            raise ValueError("robot_namespaces is empty; list at least one ('' = the node's own)")
        if len(set(namespaces)) != len(namespaces):
            raise ValueError(f"robot_namespaces names a robot twice: {namespaces}")
        v["robot_namespaces"] = namespaces
        return cls(**v)

    def delay_bound_ms(self, trained_delay_ms: Tuple[float, float]) -> float:
        """The largest delay a DelayReport may set [ms]: max_delay_ms, or the trained range's."""
        return delay_bound_ms(self.max_delay_ms, trained_delay_ms)

    def local_hw(self, preset_local_hw: Tuple[int, int]) -> Tuple[int, int]:
        if self.local_height > 0:
            return (self.local_height, self.local_width)
        return (int(preset_local_hw[0]), int(preset_local_hw[1]))
