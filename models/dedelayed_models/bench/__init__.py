"""Benchmarks: world generation speed and staleness, model speed."""
