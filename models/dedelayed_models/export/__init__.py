"""ONNX export of the robot graph (image + remote_features + remote_valid) and the remote features graph."""

from .graphs import (
    CLASS_IDS,
    FRAME_AGES_MS,
    FRAMES,
    IMAGE,
    LOGITS,
    REMOTE_FEATURES,
    REMOTE_INPUTS,
    REMOTE_OUTPUTS,
    REMOTE_VALID,
    ROBOT_INPUTS,
    ROBOT_OUTPUTS,
    RemoteFeaturesGraph,
    RobotGraph,
)
from .onnx_export import export_remote_onnx, export_robot_onnx, onnx_max_abs_diff

__all__ = ["CLASS_IDS", "FRAME_AGES_MS", "FRAMES", "IMAGE", "LOGITS", "REMOTE_FEATURES",
           "REMOTE_VALID", "REMOTE_INPUTS", "REMOTE_OUTPUTS", "ROBOT_INPUTS", "ROBOT_OUTPUTS",
           "RemoteFeaturesGraph", "RobotGraph", "export_remote_onnx", "export_robot_onnx",
           "onnx_max_abs_diff"]
