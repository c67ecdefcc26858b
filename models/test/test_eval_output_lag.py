"""``evaluation.output_lag`` on several drives: they are scored as one set, every drive's frames
counted, with the same columns as on one drive."""

import json

from dedelayed_models.evaluation.output_lag import main
from dedelayed_models.modeling import build_model, get_config, save_checkpoint
from dedelayed_models.modeling.checkpoint import load_checkpoint


def _tiny_checkpoints(folder):
    cfg = get_config("tiny")
    model = build_model(cfg)
    save_checkpoint(folder / "dedelayed.pt", model, cfg)
    save_checkpoint(folder / "local.pt", model.local, cfg)


def test_several_drives_are_scored_together(tmp_path, capsys):
    _tiny_checkpoints(tmp_path)
    assert load_checkpoint(tmp_path / "local.pt", part="local").kind == "local"
    common = ["--checkpoints", str(tmp_path), "--frames", "8", "--delays", "1", "--frame-stride", "1",
              "--cache-dir", str(tmp_path / "cache")]
    one = tmp_path / "one.json"
    two = tmp_path / "two.json"
    assert main([*common, "--seed", "1000000", "--json", str(one)]) == 0
    assert main([*common, "--seeds", "1000000", "1000001", "--json", str(two)]) == 0
    one, two = json.loads(one.read_text()), json.loads(two.read_text())
    # Every drive's frames with enough history (K frames, the delay and the lag) are scored.
    assert one["scored_frames"] > 0 and two["scored_frames"] == 2 * one["scored_frames"]
    assert set(two["mIoU"]["1"]) == set(one["mIoU"]["1"])
    assert "world-1000000, world-1000001: 8 frames each" in capsys.readouterr().out
