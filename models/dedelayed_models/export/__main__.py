"""``python -m dedelayed_models.export --checkpoint fused.pt --out-dir export/`` (see onnx_export)."""

from .onnx_export import main

raise SystemExit(main())
