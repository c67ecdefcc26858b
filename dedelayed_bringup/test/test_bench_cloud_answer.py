"""The cloud-answer benchmark times the cached and uncached paths of one model side by side."""

import pytest

from dedelayed_remote.served_model import load_served_model


@pytest.fixture(scope="module")
def served():
    return load_served_model(preset="tiny", seed=3)


def test_bench_measures_cached_and_uncached_answers_side_by_side(served):
    from dedelayed_bringup.bench.cloud_answer import answer_cost

    row = answer_cost(served, 2, repeats=2, rate_hz=10.0)
    for path in ("cached", "uncached"):
        assert row[path]["wall_ms_median"] > 0 and row[path]["macs_per_answer"] > 0
    # the cache skips K-1 of the K backbone passes: fewer multiply-accumulates, counted
    assert row["macs_per_answer_ratio_cached_over_uncached"] < 1.0
