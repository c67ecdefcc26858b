"""Dedelayed networks, data, training and evaluation (importable without ROS).

Paper: "Dedelayed: Deleting remote inference delay via on-device correction".
Subpackages are concepts: ``modeling`` (networks), ``data`` (synthetic world,
dataset loaders, uplink codec), ``evaluation`` (mIoU, streaming), ``export``
(ONNX), ``transport`` (FeatureMap payload encodings).
"""

__version__ = "0.1.0"
