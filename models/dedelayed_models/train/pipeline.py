"""All three Table-2 stages in order, then the shipped checkpoints and the evaluation report.

    python -m dedelayed_models.train.pipeline [--runs runs] [--ship models/dedelayed_models/checkpoints]

remote predictive -> local -> fusion (initialised from the two), each resumable (``--resume``
is passed, so re-running the command continues an interrupted stage and skips finished ones).
The fusion result (``dedelayed.pt``, local + the frozen remote with its predictive head) and the
local stage's local model (``local.pt``, a LocalModel checkpoint) are written to ``--ship``; the report is written there by
``python -m dedelayed_models.evaluate`` unless ``--no-eval``.
"""

import argparse
import os
import shutil
import sys

from ..modeling import load_checkpoint, save_checkpoint
from .config import load_config
from .trainer import train

STAGE_CONFIGS = (("remote_predictive", "remote_predictive"), ("local", "local"), ("fusion", "fusion"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dedelayed-train-pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", default="runs", help="folder for the stage outputs and the frame cache")
    p.add_argument("--ship", default=None, help="copy final checkpoints here (default: none)")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation report")
    p.add_argument("--set", nargs="*", default=[], help="overrides applied to every stage")
    args = p.parse_args(argv)
    finals = {}
    for name, config in STAGE_CONFIGS:
        out = os.path.join(args.runs, name)
        cfg = load_config(config, [f"data.cache_dir={os.path.join(args.runs, 'cache')}", *args.set])
        if cfg["stage"] == "fusion":
            cfg["init"] = {"local": finals["local"], "remote": finals["remote_predictive"]}
        final = os.path.join(out, "model_final.pt")
        if not os.path.isfile(final):
            train(cfg, out, resume=True)
        finals[name] = final
    if args.ship:
        os.makedirs(args.ship, exist_ok=True)
        # The local stage never trains the remote half: ship its local model alone.
        local = load_checkpoint(finals["local"], part="local")
        save_checkpoint(os.path.join(args.ship, "local.pt"), local.model, local.config, extra=local.extra)
        shutil.copyfile(finals["fusion"], os.path.join(args.ship, "dedelayed.pt"))
        if not args.no_eval:
            from ..evaluate import main as evaluate_main
            evaluate_main(["--checkpoints", args.ship, "--out", args.ship,
                           "--cache-dir", os.path.join(args.runs, "cache")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
