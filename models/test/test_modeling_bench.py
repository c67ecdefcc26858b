"""The cost benchmark runs end to end and its numbers are self-consistent (tiny preset)."""

import json

from dedelayed_models.bench.models_bench import main, part_params
from dedelayed_models.modeling import build_model


def test_models_bench_writes_consistent_json(tmp_path):
    out = tmp_path / "models.json"
    assert main(["--preset", "tiny", "--reps", "2", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    (tiny,) = report["presets"]
    params = tiny["params"]
    model = build_model("tiny")
    assert params == part_params(model)
    assert params["local.total"] == sum(p.numel() for p in model.local.parameters())
    assert params["remote.total"] == params["remote.features_total"] + params["remote.head"]
    gmacs = tiny["gmacs"]
    assert gmacs["local_only@64x128"] > gmacs["local_only@48x96"] > 0
    assert gmacs["fused_local@64x128"] == gmacs["local_only@64x128"]   # the add is not a MAC
    assert gmacs["remote.features_per_request"] > 4 * gmacs["remote.image_backbone_per_frame"]
    for res in ("64x128", "48x96"):
        lat = tiny["latency"][res]
        assert lat["local_only_ms"] > 0 and lat["fused_ms"] > 0
        assert lat["budget_met"] == (lat["ratio"] <= 1.05)
