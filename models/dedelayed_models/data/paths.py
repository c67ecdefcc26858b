"""Where the project's shared, read-only data lives (never copied into the repository)."""

import os
from pathlib import Path

SHARED_DATA_ENV = "DEDELAYED_SHARED_DATA"


def shared_data_dir() -> Path:
    """``$DEDELAYED_SHARED_DATA`` if set, else ``<repo>/../shared/data`` (may not exist)."""
    if os.environ.get(SHARED_DATA_ENV):
        return Path(os.environ[SHARED_DATA_ENV])
    repo = Path(__file__).resolve().parents[3]      # models/dedelayed_models/data/paths.py
    return repo.parent / "shared" / "data"
