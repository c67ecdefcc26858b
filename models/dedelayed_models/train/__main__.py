"""``python -m dedelayed_models.train --config <yaml or packaged name> [--out DIR] [--resume]
[--max-iters N] [--set section.key=value ...]`` -- one training stage; torchrun-ready."""

import argparse
import os
import sys

from .config import load_config
from .trainer import train


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dedelayed-train", description=__doc__)
    p.add_argument("--config", required=True, help="YAML path, or a name in dedelayed_models/configs/")
    p.add_argument("--out", default=None, help="output folder (default runs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last_state.pt if present")
    p.add_argument("--max-iters", type=int, default=None,
                   help="stop at this iteration (the LR schedule still spans solver.max_iters)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="config overrides, e.g. solver.max_iters=20 data.cache_dir=/tmp/cache")
    args = p.parse_args(argv)
    cfg = load_config(args.config, args.set)
    name = os.path.splitext(os.path.basename(args.config))[0]
    out = args.out or os.path.join("runs", name)
    result = train(cfg, out, resume=args.resume, stop_at=args.max_iters)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"[{cfg['stage']}] done at iteration {result['iteration']} in {result['elapsed_s']:.0f} s; "
              f"val mIoU {result['val_mIoU']}; outputs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
