"""Look at the world: ``python -m dedelayed_models.data.world.view --out world.png [--gif world.gif]``.

Writes a PNG strip: one row per frame, camera image | label colours | label blended over image.
"""

import argparse

import cv2
import numpy as np

from ...classes import colorize
from ..timing import DEFAULT_FPS
from .sequence import VAL_SEEDS, WorldSequence


def overlay_strip(seq: WorldSequence, frames, height_px: int, width_px: int) -> np.ndarray:
    """(rows * H, 3 * W, 3) uint8 RGB."""
    rows = []
    for t in frames:
        image, label = seq.render(t, height_px, width_px)
        colours = colorize(label)
        blend = cv2.addWeighted(image, 0.5, colours, 0.5, 0.0)
        rows.append(np.concatenate([image, colours, blend], axis=1))
    return np.concatenate(rows, axis=0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="world.png", help="PNG strip to write")
    ap.add_argument("--gif", default=None, help="also write an animated GIF of the image|label pair")
    ap.add_argument("--seed", type=int, default=VAL_SEEDS[0])
    ap.add_argument("--motion", type=float, default=1.0)
    ap.add_argument("--frames", type=int, default=4, help="rows in the strip, one second apart")
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=512)
    args = ap.parse_args(argv)
    seq = WorldSequence(args.seed, num_frames=max(int(args.frames * DEFAULT_FPS), 2), motion=args.motion)
    frames = [int(i * seq.fps) for i in range(args.frames)]
    strip = overlay_strip(seq, frames, args.height, args.width)
    if not cv2.imwrite(args.out, cv2.cvtColor(strip, cv2.COLOR_RGB2BGR)):
        raise SystemExit(f"cannot write {args.out}")
    print(f"wrote {args.out} ({strip.shape[1]}x{strip.shape[0]}, frames {frames})")
    if args.gif:
        from PIL import Image
        pics = [Image.fromarray(np.concatenate([im, colorize(lb)], axis=1))
                for im, lb in (seq.render(t, args.height, args.width) for t in range(0, seq.num_frames, 2))]
        pics[0].save(args.gif, save_all=True, append_images=pics[1:], duration=int(2000 / seq.fps), loop=0)
        print(f"wrote {args.gif} ({len(pics)} frames)")


if __name__ == "__main__":
    main()
