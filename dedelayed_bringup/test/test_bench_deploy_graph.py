"""The deployment benchmark runs end to end at tiny size and its JSON holds every section and
evaluated budget (no timed assertions: the numbers depend on the machine)."""

import json

import pytest

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_quick_deploy_bench_writes_every_section_and_budget(tmp_path):
    from dedelayed_bringup.bench.deploy import main

    assert main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "deploy.json").read_text())
    lines = (tmp_path / "deploy.md").read_text().splitlines()
    assert not any(line.startswith("## ") for line in lines)  # nests under README's "## Performance"
    (robot,) = result["robot"]
    for mode in ("local_only", "fused"):
        stages = robot["modes"][mode]
        assert set(stages) == {"image_conversion", "preprocess", "T1", "fuse", "rest",
                               "postprocess", "publish", "total"}
        assert all(v >= 0 for v in stages.values())
    assert robot["fused_over_local_only"]["limit"] == 1.05
    assert robot["ros_plumbing_ms"]["limit"] == 2.0
    assert "onnxruntime" in robot["backends"]
    (link,) = result["link"]
    down = link["downlink"]["per_encoding"]
    assert down["float32"]["bytes"] == 4 * 16 * 8 * 16            # tiny z: 16 x 8 x 16
    assert down["float16"]["bytes"] * 2 == down["float32"]["bytes"]
    assert link["uplink"]["bytes_per_frame"] > 0
    (cloud,) = result["cloud"]
    assert {(r["K"], r["batch_size"]) for r in cloud["rows"]} == {(1, 1), (1, 2), (2, 1), (2, 2)}
    memory = result["memory"]
    assert memory["counts"]["segmentations"] > 0                  # the real robot ran
    assert set(memory["processes"]) == {"robot", "remote"}
    assert all(p["peak_rss_mib"] > 0 for p in memory["processes"].values())
    assert result["encodings"].startswith("pending")
    names = [b["name"] for b in result["budgets"]]
    assert any("ROS plumbing" in n for n in names) and any("fused/local-only" in n for n in names)
    assert all(isinstance(b["met"], bool) for b in result["budgets"])
