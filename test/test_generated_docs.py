"""The config files and README tables that restate a parameter table or the link contract are
exactly what tools/generate_docs.py writes from them, so none can drift from its one home."""

import importlib.util
import os

import pytest

pytestmark = pytest.mark.ros  # the parameter tables live in node modules, which import rclpy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_docs", os.path.join(REPO, "tools", "generate_docs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_configs_and_readme_tables_are_current():
    stale = [path for path, (current, new) in _generator().rendered().items() if current != new]
    assert not stale, ("written from the parameter tables and the link contract, but edited or "
                       f"stale: {stale}; run tools/in_workspace.sh python tools/generate_docs.py")


def test_every_generated_block_is_closed_and_named():
    generator = _generator()
    for path in generator.README_FILES:
        text = open(os.path.join(REPO, path), encoding="utf-8").read()
        assert text.count(generator.BEGIN) == text.count(generator.END) > 0, path
