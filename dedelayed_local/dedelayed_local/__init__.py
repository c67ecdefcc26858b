"""Robot side of Dedelayed: local segmenter (TensorRT / onnxruntime / torch), fusion with
delay-conditioned remote features, uplink of compressed frames, delay report to the cloud."""
