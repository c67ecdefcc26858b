"""Every packaged training config loads, names a known stage, builds its model, and comments
every key (STYLE.md: one commented place per fact)."""

import glob
import os

import pytest

from dedelayed_models.modeling import build_model
from dedelayed_models.train import load_config, model_config
from dedelayed_models.train.config import CONFIG_DIR

CONFIGS = sorted(glob.glob(os.path.join(CONFIG_DIR, "*.yaml"))
                 + glob.glob(os.path.join(CONFIG_DIR, "base", "*.yaml")))


def test_one_config_per_table2_stage_and_instant_variants():
    names = {os.path.basename(p)[:-5] for p in CONFIGS}
    assert {"remote_predictive", "local", "fusion", "instant_remote", "instant_local",
            "instant_fusion"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_loads_builds_and_is_commented(path):
    cfg = load_config(path)
    mcfg = model_config(cfg)
    build_model(mcfg)
    assert tuple(mcfg.local_hw) != tuple(mcfg.remote_hw)
    for line in open(path):
        text = line.strip()
        if text and not text.startswith("#") and ":" in text:
            assert "#" in text, f"{os.path.basename(path)}: uncommented key: {text}"


def test_overrides_and_unknown_keys():
    cfg = load_config("instant_local", ["solver.max_iters=7", "model.remote={num_frames: 3}"])
    assert cfg["solver"]["max_iters"] == 7 and model_config(cfg).remote.num_frames == 3
    with pytest.raises(KeyError, match="unknown config key 'solver.max_iter'"):
        load_config("instant_local", ["solver.max_iter=7"])


def test_any_model_field_can_be_overridden_on_top_of_a_base_file():
    """world.yaml sets a few RemoteConfig fields; a --set may change any other one without
    dropping those, and a misspelt field is refused with the dataclass's field names."""
    cfg = load_config("remote_predictive", ["model.remote.stem_width=16",
                                            "model.remote.stage_widths=[32, 64]"])
    remote = model_config(cfg).remote
    assert remote.stem_width == 16 and remote.stage_widths == (32, 64)
    assert remote.num_frames == 2 and remote.merge_size == 2     # world.yaml's, kept
    with pytest.raises(KeyError, match=r"unknown config key 'model.remote.stem_widht'.*stem_width"):
        load_config("remote_predictive", ["model.remote.stem_widht=16"])
    with pytest.raises(KeyError, match=r"unknown config key 'model.local.chanels'.*channels"):
        load_config("local", ["model.local={chanels: [8, 16, 24]}"])


def test_world_stages_share_one_model_and_data_definition():
    """The three Table-2 stages must train the same model on the same data: one base file."""
    cfgs = [load_config(n) for n in ("remote_predictive", "local", "fusion")]
    assert all(c["model"] == cfgs[0]["model"] for c in cfgs)
    shared = {k: v for k, v in cfgs[0]["data"].items() if k != "static_clip_prob"}
    assert all({k: c["data"][k] for k in shared} == shared for c in cfgs)
    for name in ("remote_predictive", "local", "fusion"):
        text = open(os.path.join(CONFIG_DIR, name + ".yaml")).read()
        assert "local_hw" not in text and "base: base/world.yaml" in text


def test_base_loop_and_missing_base_are_clear_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\nstage: local\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ValueError, match="config base loop"):
        load_config(str(tmp_path / "a.yaml"))
    (tmp_path / "c.yaml").write_text("base: nowhere.yaml\n")
    with pytest.raises(FileNotFoundError, match="base 'nowhere.yaml' not found"):
        load_config(str(tmp_path / "c.yaml"))
    (tmp_path / "d.yaml").write_text("base: e.yaml\nsolver: {max_iters: 3}\n")
    (tmp_path / "e.yaml").write_text("solver: {max_iters: 9, lr: 0.5}\n")
    cfg = load_config(str(tmp_path / "d.yaml"))
    assert cfg["solver"]["max_iters"] == 3 and cfg["solver"]["lr"] == 0.5    # the file wins


def test_pipeline_per_stage_overrides_and_the_data_it_evaluates_on():
    from dedelayed_models.train.pipeline import evaluation_args, stage_overrides
    got = stage_overrides([["fusion", "solver.max_iters=300"], ["local", "seed=3", "solver.lr=0.1"],
                           ["fusion", "seed=1"]])
    assert got == {"remote_predictive": [], "local": ["seed=3", "solver.lr=0.1"],
                   "fusion": ["solver.max_iters=300", "seed=1"], "streaming": []}
    with pytest.raises(ValueError, match=r"--set-stage remote: unknown stage; choose one of"):
        stage_overrides([["remote", "seed=1"]])
    with pytest.raises(ValueError, match="give at least one KEY=VALUE"):
        stage_overrides([["fusion"]])
    world = load_config("fusion")
    assert evaluation_args(world["data"]) == []
    real = load_config("fusion", ["data.source=camvid", "data.val_frame_range=[66,101]"])
    args = evaluation_args(real["data"])
    assert args[:3] == ["--dataset", "camvid", "--data"] and "val_frame_range=[66, 101]" in args
    from dedelayed_models.train.config import data_section
    assert data_section("camvid", [a for a in args[3:]])["val_frame_range"] == [66, 101]
