"""Live delay sweep: the paper's Fig. 6 measured on the running system.

    python -m dedelayed_bringup.demo --sweep-rtt-ms 0 50 100 200 400 [--sweep-duration-s 30]

For each round trip the whole graph (cloud, link emulator, robot, uplink, camera) is started,
drives ``--sweep-duration-s`` seconds of the same validation drive with no outage, the link
delaying each direction by half the round trip with Gaussian jitter (``--sweep-jitter-ms`` of
round-trip standard deviation), and is stopped; the demo's own streaming scoring gives the mIoU
of Dedelayed, local-only and remote-only. Every drive's full demo report lands in
``<out>/rtt_<ms>/``; the sweep writes ``<out>/live_sweep.json``, ``live_sweep.md`` (the table)
and ``live_sweep.png`` (streaming mIoU against round trip).
"""

from __future__ import annotations

import copy
import json
import math
import os
from typing import Callable, Dict, List

STREAMS = (("dedelayed", "Dedelayed"), ("local_only", "local-only"), ("remote_only", "remote-only"))


def sweep_row(rtt_ms: float, figures: Dict) -> Dict:
    """One round trip's figures from a demo drive's report."""
    frames, tau = figures["frames"], figures["tau"]
    row = {"round_trip_ms": rtt_ms, "num_frames": frames["num_frames"], "num_missing": frames["num_missing"],
           "num_fused": frames["num_fused"], "mode_changes_after_startup": frames["mode_changes_after_startup"],
           "robot_tau_ms": tau["robot_estimate_ms"],
           "remote_compute_ms": tau["remote_compute_ms"] and tau["remote_compute_ms"]["median"],
           "tau_within_one_frame": bool(tau["within_one_frame"])}
    for key, _ in STREAMS:
        row[key] = figures["streams"][key]["streaming_mIoU"]
    return row


def ordering_checks(rows: List[Dict]) -> List[Dict]:
    """Dedelayed >= max(local-only, remote-only) at every round trip from 50 ms, and within
    1 mIoU of local-only at 0 ms."""
    out = []
    for r in rows:
        best = max(r["local_only"], r["remote_only"])
        if r["round_trip_ms"] == 0:
            gap = r["dedelayed"] - r["local_only"]
            out.append({"target": "Dedelayed within 1 mIoU of local-only at 0 ms", "round_trip_ms": 0.0,
                        "measured": f"{gap:+.2f}", "met": gap >= -1.0})
        else:
            gap = r["dedelayed"] - best
            out.append({"target": f"Dedelayed >= max(local-only, remote-only) at {r['round_trip_ms']:g} ms",
                        "round_trip_ms": r["round_trip_ms"], "measured": f"{gap:+.2f}", "met": gap >= 0})
    return out


def markdown(result: Dict) -> str:
    lines = ["# Live delay sweep (the running system)", "",
             f"{result['duration_s']:g} s drive per round trip at {result['fps']:g} fps, round-trip "
             f"jitter {result['jitter_ms']:g} ms (std), no outage; models: {result['models']}", "",
             "| round trip ms | Dedelayed | local-only | remote-only | robot tau ms (median) | cloud compute ms | "
             "tau within a frame of RTT + compute | fused / frames | missing | mode changes |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        tau = "n/a" if r["robot_tau_ms"] is None else f"{r['robot_tau_ms']:.0f}"
        comp = "n/a" if r["remote_compute_ms"] is None else f"{r['remote_compute_ms']:.0f}"
        lines.append(f"| {r['round_trip_ms']:g} | {r['dedelayed']:.2f} | {r['local_only']:.2f} | "
                     f"{r['remote_only']:.2f} | {tau} | {comp} | {'yes' if r['tau_within_one_frame'] else 'no'} | "
                     f"{r['num_fused']} / {r['num_frames']} | "
                     f"{r['num_missing']} | {r['mode_changes_after_startup']} |")
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {c['target']} | {c['measured']} | {'yes' if c['met'] else '**no**'} |"
              for c in result["checks"]]
    return "\n".join(lines) + "\n"


def plot(result: Dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["round_trip_ms"] for r in result["rows"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in STREAMS:
        ax.plot(xs, [r[key] for r in result["rows"]], marker="o", label=label)
    ax.set(xlabel="round trip (ms)", ylabel="streaming mIoU (%)",
           title=f"Live delay sweep at {result['fps']:g} fps (running system)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_sweep(args, run_drive: Callable) -> Dict:
    """One demo drive per ``args.sweep_rtt_ms``; returns (and writes) the sweep's figures."""
    rows, models = [], ""
    for rtt in args.sweep_rtt_ms:
        if rtt < 0:
            raise ValueError(f"--sweep-rtt-ms {rtt}: round trips must be >= 0 ms")
        drive = copy.copy(args)
        drive.delay_ms = rtt / 2.0
        drive.jitter_ms = args.sweep_jitter_ms / math.sqrt(2.0)
        drive.outage_s = 0.0
        if not getattr(args, "video", ""):   # a --video drive is its clip's loops long
            drive.duration_s = args.sweep_duration_s
        drive.out = os.path.join(args.out, f"rtt_{rtt:g}")
        drive.sweep_rtt_ms = None
        print(f"[sweep] round trip {rtt:g} ms: {drive.duration_s:g} s drive", flush=True)
        figures = run_drive(drive)
        models = figures["models"]
        rows.append(sweep_row(rtt, figures))
        print(f"[sweep] round trip {rtt:g} ms: " + ", ".join(
            f"{label} {rows[-1][key]:.2f}" for key, label in STREAMS), flush=True)
    result = {"fps": args.fps, "duration_s": drive.duration_s, "jitter_ms": args.sweep_jitter_ms,
              "models": models, "rows": rows, "checks": ordering_checks(rows)}
    result["ok"] = all(r["num_missing"] == 0 for r in rows)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "live_sweep.json"), "w") as f:
        json.dump(result, f, indent=1, default=float)
    text = markdown(result)
    with open(os.path.join(args.out, "live_sweep.md"), "w") as f:
        f.write(text)
    plot(result, os.path.join(args.out, "live_sweep.png"))
    print("\n" + text)
    print(f"[sweep] wrote {args.out}/live_sweep.json, live_sweep.md, live_sweep.png")
    return result
