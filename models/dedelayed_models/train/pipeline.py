"""All three Table-2 stages in order, the streaming stage, then the shipped checkpoints and the report.

    python -m dedelayed_models.train.pipeline [--runs runs] [--ship models/dedelayed_models/checkpoints]
        [--set data.source=camvid ...] [--set-stage fusion solver.max_iters=300 ...]
        [--streaming-config none]

remote predictive -> local -> fusion (initialised from the two) -> streaming (the fusion
result's local model fine-tuned for output used one camera frame late; ``configs/streaming.yaml``),
each resumable (``--resume`` is passed, so re-running the command continues an interrupted stage
and skips finished ones). The fusion result (``dedelayed.pt``, local + the frozen remote with its
predictive head), the streaming result (``dedelayed_streaming.pt``, same remote) and the
local stage's local model (``local.pt``, a LocalModel checkpoint) are written to ``--ship``; the
report is written there by ``python -m dedelayed_models.evaluate`` on the fusion stage's data
(its ``data.source`` and validation frames) unless ``--no-eval``.
"""

import argparse
import json
import os
import shutil
import sys

from ..modeling import load_checkpoint, save_checkpoint
from .config import load_config
from .trainer import train

STAGE_NAMES = ("remote_predictive", "local", "fusion")    # run folders, in training order
STREAMING = "streaming"   # optional fourth stage (configs/streaming.yaml), from the fusion result
DEFAULT_STAGE_CONFIGS = ("remote_predictive", "local", "fusion")
# The data keys that say which real video the evaluation reads (train/config.py DEFAULTS["data"]).
EVAL_DATA_KEYS = ("root", "val_split", "sequences", "val_frame_range", "fps", "label_encoding", "resize",
                  "uplink_quality")


def stage_overrides(pairs) -> dict:
    """``--set-stage NAME KEY=VALUE ...`` occurrences -> {stage name: [KEY=VALUE, ...]}."""
    out = {name: [] for name in (*STAGE_NAMES, STREAMING)}
    for name, *items in pairs:
        if name not in out:
            raise ValueError(f"--set-stage {name}: unknown stage; choose one of {[*STAGE_NAMES, STREAMING]}")
        if not items:
            raise ValueError(f"--set-stage {name}: give at least one KEY=VALUE after the stage name")
        out[name].extend(items)
    return out


def evaluation_args(data: dict) -> list:
    """``evaluate`` arguments for the data a fusion config trained on (real sources only)."""
    if data["source"] == "world":
        return []
    return ["--dataset", data["source"], "--data", *(f"{k}={json.dumps(data[k])}" for k in EVAL_DATA_KEYS)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dedelayed-train-pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", default="runs", help="folder for the stage outputs and the frame cache")
    p.add_argument("--ship", default=None, help="copy final checkpoints here (default: none)")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation report")
    p.add_argument("--configs", nargs=3, default=list(DEFAULT_STAGE_CONFIGS),
                   metavar=("REMOTE", "LOCAL", "FUSION"),
                   help="the three stage configs (YAML paths or packaged names), in training order; "
                        "e.g. instant_remote instant_local instant_fusion for a quick run")
    p.add_argument("--streaming-config", default=STREAMING,
                   help="config of the streaming stage, trained from the fusion result and shipped as "
                        "dedelayed_streaming.pt (the running robot's model); 'none' skips it")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides applied to every stage")
    p.add_argument("--set-stage", nargs="+", action="append", default=[], metavar="STAGE KEY=VALUE",
                   help=f"overrides for one stage ({', '.join((*STAGE_NAMES, STREAMING))}), applied after --set; "
                        "repeat per stage, e.g. --set-stage fusion solver.max_iters=300")
    p.add_argument("--eval-args", nargs=argparse.REMAINDER, default=[],
                   help="everything after this flag is passed to the evaluation (e.g. --skip jitter)")
    args = p.parse_args(argv)
    per_stage = stage_overrides(args.set_stage)
    stages = list(zip(STAGE_NAMES, args.configs))
    if args.streaming_config != "none":
        stages.append((STREAMING, args.streaming_config))
    finals, fusion_data = {}, None
    for name, config in stages:
        out = os.path.join(args.runs, name)
        cfg = load_config(config, [f"data.cache_dir={os.path.join(args.runs, 'cache')}", *args.set,
                                   *per_stage[name]])
        if cfg["stage"] == "fusion":
            cfg["init"] = {"local": finals["local"], "remote": finals["remote_predictive"]}
        if name == "fusion":
            fusion_data = cfg["data"]     # the report evaluates on the fusion stage's data
        elif name == STREAMING:
            cfg["init"] = {"local": finals["fusion"], "remote": finals["fusion"]}
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
        if STREAMING in finals:
            shutil.copyfile(finals[STREAMING], os.path.join(args.ship, "dedelayed_streaming.pt"))
        if not args.no_eval:
            from ..evaluate import main as evaluate_main
            evaluate_main(["--checkpoints", args.ship, "--out", args.ship,
                           "--cache-dir", os.path.join(args.runs, "cache"), *evaluation_args(fusion_data),
                           *args.eval_args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
