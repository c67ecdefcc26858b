"""The trained checkpoints shipped in the repository, and what a node's ``checkpoint``
parameter may name: a file, a shipped set, or random weights. Plain Python (no torch), so
parameter tables and launch checks can read it.
"""

import os

# The trained checkpoints shipped in the repository: local.pt, dedelayed.pt and their report.
SHIPPED_CHECKPOINT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checkpoints")
# What the nodes' ``checkpoint`` parameter may name besides a file. The world set's streaming
# checkpoint is the default of both nodes and of `make demo` (its output is scored one camera
# frame after its frame, as any running system uses it); RANDOM_WEIGHTS is for tests only.
SHIPPED_CHECKPOINTS = {
    "shipped:world": os.path.join(SHIPPED_CHECKPOINT_DIR, "dedelayed_streaming.pt"),
    "shipped:camvid": os.path.join(SHIPPED_CHECKPOINT_DIR, "camvid", "dedelayed.pt"),
}
DEFAULT_CHECKPOINT = "shipped:world"
RANDOM_WEIGHTS = "random"
CHECKPOINT_CHOICES = (f"a .pt file, {', '.join(SHIPPED_CHECKPOINTS)} (default {DEFAULT_CHECKPOINT}) "
                      f"or '{RANDOM_WEIGHTS}' (untrained weights of `preset` and `seed`, tests only)")


def resolve_checkpoint(value: str) -> str:
    """A node's ``checkpoint`` parameter as a file path, or "" for RANDOM_WEIGHTS.

    ValueError names the value and the choices when it is empty or unknown, FileNotFoundError
    when a shipped set or a file is missing."""
    value = str(value).strip()
    if value == RANDOM_WEIGHTS:
        return ""
    if not value:
        raise ValueError(f"checkpoint is empty; give {CHECKPOINT_CHOICES}")
    path = SHIPPED_CHECKPOINTS.get(value, value)
    if value.startswith("shipped:") and value not in SHIPPED_CHECKPOINTS:
        raise ValueError(f"checkpoint '{value}' is not a shipped set; give {CHECKPOINT_CHOICES}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint '{value}': {path} does not exist; give "
                                f"{CHECKPOINT_CHOICES}")
    return os.path.abspath(path)
