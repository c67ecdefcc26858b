"""ROS-free parts of the deployment benchmark: stage timing, link bytes, mIoU vs bytes."""

import torch

from dedelayed_models.bench.deploy_bench import link_bytes, network_stages, verdict
from dedelayed_models.bench.encoding_quality import run as encodings_run
from dedelayed_models.modeling import build_model, get_config, save_checkpoint


def test_network_stages_give_the_local_models_answer():
    torch.manual_seed(0)
    local = build_model("tiny").local.eval()
    x, z = torch.rand(1, 3, 64, 128), torch.randn(1, 16, 8, 16)
    for features in (None, z):
        ids, ms = network_stages(local, x, features)
        with torch.no_grad():
            expected = local(x, features).argmax(1)[0]
        assert torch.equal(ids.long(), expected) and set(ms) == {"T1", "fuse", "rest"}


def test_link_bytes_per_encoding_and_rate():
    link = link_bytes("tiny", uplink_frames=2)
    down = link["downlink"]["per_encoding"]
    assert link["downlink"]["z_shape"] == [16, 8, 16]
    assert down["int8"]["bytes"] == 16 * 8 * 16 + 8 * 16           # payload + scale/offset
    assert abs(down["float32"]["mbit_per_s"] - 8192 * 8 * 30 / 1e6) < 1e-9
    assert verdict(1.2, 1.05) == {"value": 1.2, "limit": 1.05, "met": False}


def test_encoding_quality_runs_on_any_dedelayed_checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "dedelayed.pt"
    save_checkpoint(path, build_model("tiny"), get_config("tiny"))
    result = encodings_run(str(path), sequences=1, frames=8, delay_frames=1)
    rows = result["encodings"]
    assert set(rows) == {"float32", "float16", "int8"} and rows["float32"]["miou_loss"] == 0
    assert rows["int8"]["fraction_of_float32"] < 0.3 and "meets_goal" in rows["int8"]
