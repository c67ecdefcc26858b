"""Every packaged training config loads, names a known stage, builds its model, and comments
every key (STYLE.md: one commented place per fact)."""

import glob
import os

import pytest

from dedelayed_models.modeling import build_model
from dedelayed_models.train import load_config, model_config
from dedelayed_models.train.config import CONFIG_DIR

CONFIGS = sorted(glob.glob(os.path.join(CONFIG_DIR, "*.yaml")))


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
