"""How remote features z travel from cloud to robot, without ROS.

``feature_codec`` turns a (C, H, W) float32 array into payload bytes in one of the
FeatureMap encodings and back; ``feature_msg`` copies an encoded payload into and out of
a ``dedelayed_msgs/FeatureMap`` message (duck-typed: no ROS import here).
"""

from dedelayed_models.transport.feature_codec import (
    ENCODINGS,
    EncodedFeatures,
    FeatureDecodeError,
    decode_features,
    encode_features,
    max_abs_error_bound,
)

__all__ = ["ENCODINGS", "EncodedFeatures", "FeatureDecodeError", "decode_features",
           "encode_features", "max_abs_error_bound"]
