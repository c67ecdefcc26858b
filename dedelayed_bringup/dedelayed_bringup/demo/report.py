"""Writes demo_out/: figures.json, report.md, streaming_miou.png, tau_histogram.png, overlays.png
(drive.mcap, the recorded drive, is written by the recorder; its size is reported here).

Also prints the summary table to the terminal. Every number comes from the recording.
"""

import json
import os
import platform
import time

import numpy as np

from dedelayed_bringup.demo.scoring import frame_modes, outage_behaviour, streaming_scores, tau_check

LABELS = {"dedelayed": "Dedelayed (local + remote predictive)", "local_only": "local-only",
          "remote_only": "remote-only (stale remote answer)"}
COLORS = {"dedelayed": "tab:green", "local_only": "tab:blue", "remote_only": "tab:red"}


def _fmt(value, spec=".1f"):
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else format(value, spec)


def write_report(args, models, link, rec, *, cut_s, restore_s, cpu_cores, wall_start) -> dict:
    truth_times = sorted(t for t, _ in rec.truth)
    if not truth_times:
        raise RuntimeError("the recorder received no ground truth: the camera never reached the "
                           "robot's domain (see the [camera] lines above)")
    start, end = truth_times[0], truth_times[-1] + 1e-6
    phases = {"whole drive": (start, end)}
    if cut_s is not None and restore_s is not None:
        phases.update({"before outage": (start, cut_s), "during outage": (cut_s, restore_s),
                       "after outage": (restore_s, end)})
    scores = streaming_scores(rec, phases)
    modes = frame_modes(rec)
    outage = outage_behaviour(modes["modes"], cut_s, restore_s)
    tau = tau_check(rec, link.round_trip_ms, 1e3 / args.fps)
    load = os.getloadavg()
    figures = {
        "trained_models": models.trained, "models": models.describe(),
        "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()},
        "link": {"delay_ms_each_way": link.delay_ms, "jitter_ms": link.jitter_ms,
                 "loss": link.loss, "round_trip_ms": link.round_trip_ms},
        "streams": scores, "frames": {k: v for k, v in modes.items() if k != "modes"},
        "outage": outage, "tau": tau,
        "cpu_cores_used": {k: round(v, 3) for k, v in cpu_cores.items()},
        "cpu_cores_used_total": round(float(sum(cpu_cores.values())), 3),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_1_5_15": [round(v, 2) for v in load]},
        "wall_time_s": round(time.time() - wall_start, 1),
        "bag": _bag_figures(rec, truth_times),
    }
    os.makedirs(args.out, exist_ok=True)
    _plots(args, rec, figures, phases, modes)
    with open(os.path.join(args.out, "figures.json"), "w") as f:
        json.dump(figures, f, indent=1, default=float)
    table = summary_table(figures)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(_markdown(figures, table))
    print("\n" + table + "\n")
    print(f"[demo] wrote {args.out}/report.md, figures.json, streaming_miou.png, "
          f"tau_histogram.png, overlays.png in {figures['wall_time_s']:.0f} s")
    bag = figures["bag"]
    if bag:
        print(f"[demo] drive recorded: {bag['path']} ({bag['size_bytes'] / 1e6:.1f} MB, "
              f"{bag['bytes_per_drive_s'] / 1e6:.2f} MB per second of drive, "
              f"{sum(bag['messages'].values())} messages on {len(bag['messages'])} topics)")
    return figures


def _bag_figures(rec, truth_times) -> dict:
    """The bag's path, size, size per second of drive (camera span) and messages per topic."""
    if not rec.bag:
        return {}
    drive_s = max(truth_times[-1] - truth_times[0], 1e-3)
    scored = {"truth": len(rec.truth), **{s: len(rec.outputs[s]) for s in LABELS},
              "features": len(rec.features), "delay_reports": len(rec.delay_reports)}
    return {**rec.bag, "drive_s": round(drive_s, 3),
            "bytes_per_drive_s": round(rec.bag["size_bytes"] / drive_s),
            "scored_messages": scored}


def summary_table(fig) -> str:
    phases = list(fig["streams"]["dedelayed"]["mIoU_by_phase"])
    head = "| output | streaming mIoU | " + " | ".join(p for p in phases if p != "whole drive") + \
           " | outputs | median latency ms |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for stream, label in LABELS.items():
        s = fig["streams"][stream]
        by = [_fmt(s["mIoU_by_phase"][p]) for p in phases if p != "whole drive"]
        lat = s["output_latency_ms"]
        lines.append(f"| {label} | {_fmt(s['streaming_mIoU'])} | " + " | ".join(by) +
                     f" | {s['num_outputs']} | {_fmt(lat and lat['median'])} |")
    f, o, t = fig["frames"], fig["outage"], fig["tau"]
    lines += ["", f"camera frames {f['num_frames']}, segmented {f['num_frames'] - f['num_missing']} "
                  f"(fused {f['num_fused']}, local-only {f['num_local_only']}, missing {f['num_missing']}); "
                  f"{f['mode_changes_after_startup']} mode changes after the first fused frame"]
    if o["injected"]:
        lines.append(f"outage {o['outage_s']:.1f} s: local-only after {_fmt(o['local_only_after_ms'], '.0f')} ms, "
                     f"fused again {_fmt(o['fused_again_after_ms'], '.0f')} ms after the link came back")
    lines.append(f"tau: robot estimate {_fmt(t['robot_estimate_ms'], '.0f')} ms vs round trip "
                 f"{t['round_trip_ms']:.0f} + remote compute {_fmt(t['remote_compute_ms'] and t['remote_compute_ms']['median'], '.0f')} "
                 f"= {_fmt(t['expected_ms'], '.0f')} ms ({'within' if t['within_one_frame'] else 'NOT within'} "
                 f"one frame, {t['frame_period_ms']:.0f} ms)")
    lines.append(f"CPU: {fig['cpu_cores_used_total']:.2f} cores for the demo's processes "
                 f"({', '.join(f'{k} {v:.2f}' for k, v in fig['cpu_cores_used'].items())}); "
                 f"{fig['machine']['cpus']} CPUs, load average {fig['machine']['load_average_1_5_15'][0]}")
    if not fig["trained_models"]:
        lines.append("NOTE: UNTRAINED random models (no shipped checkpoint): these mIoU figures "
                     "say nothing about Dedelayed's accuracy, only that the system runs.")
    return "\n".join(lines)


def _markdown(fig, table) -> str:
    s = fig["settings"]
    warn = ("" if fig["trained_models"] else
            "> **Untrained models.** No trained checkpoint was found, so robot and cloud ran random "
            "weights. The accuracy figures below only show that the system runs end to end.\n\n")
    return (f"# Dedelayed demo report\n\n{warn}"
            f"Drive: world seed {s['seed']}, motion {s['motion']}, {s['duration_s']:g} s at "
            f"{s['fps']:g} fps, camera {s['camera_hw'][0]}x{s['camera_hw'][1]}. Models: {fig['models']}.\n"
            f"Link: {fig['link']['delay_ms_each_way']:g} ms each way (round trip "
            f"{fig['link']['round_trip_ms']:g} ms), jitter {fig['link']['jitter_ms']:g} ms, loss "
            f"{fig['link']['loss']:g}; outage {s['outage_s']:g} s in the middle.\n\n"
            "Streaming mIoU (Li et al. 2020): each ground-truth instant (a camera frame's stamp) is "
            "scored against the latest output the recorder had received by then.\n\n"
            f"{table}\n\n"
            "![streaming mIoU over time](streaming_miou.png)\n\n"
            "![tau histogram](tau_histogram.png)\n\n"
            "![overlays](overlays.png)\n\n"
            f"All figures: `figures.json`. Wall time {fig['wall_time_s']:.0f} s.\n")


def _plots(args, rec, fig, phases, modes) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = min(t for t, _ in rec.truth)
    f, ax = plt.subplots(figsize=(10, 4))
    for stream, label in LABELS.items():
        s = fig["streams"][stream]
        ax.plot(s["timeline_s"], [np.nan if v is None else v for v in s["timeline_mIoU"]],
                label=f"{label}: {_fmt(s['streaming_mIoU'])}", color=COLORS[stream])
    if "during outage" in phases:
        lo, hi = phases["during outage"]
        ax.axvspan(lo - start, hi - start, color="0.85", label="link outage")
    ax.set(xlabel="drive time [s]", ylabel="streaming mIoU per 1 s [%]",
           title="Streaming mIoU" + ("" if fig["trained_models"] else " (UNTRAINED models)"))
    ax.legend(loc="lower left", fontsize=8)
    f.tight_layout()
    f.savefig(os.path.join(args.out, "streaming_miou.png"), dpi=110)
    plt.close(f)

    taus = [d["tau_ms"] for d in rec.diagnostics if d["mode"] == "fused" and d["tau_ms"]]
    f, ax = plt.subplots(figsize=(6, 3.5))
    if taus:
        ax.hist(taus, bins=30, color="tab:green")
    t = fig["tau"]
    if t["expected_ms"] is not None:
        ax.axvline(t["expected_ms"], color="k", ls="--", label="round trip + remote compute")
    if t["robot_estimate_ms"] is not None:
        ax.axvline(t["robot_estimate_ms"], color="tab:orange", label="robot's estimate (median)")
    ax.set(xlabel="tau = frame stamp - echoed feature stamp [ms]", ylabel="samples",
           title="tau of fused frames (robot /diagnostics)")
    ax.legend(fontsize=8)
    f.tight_layout()
    f.savefig(os.path.join(args.out, "tau_histogram.png"), dpi=110)
    plt.close(f)
    _overlay_strip(args, rec, phases, plt)


def _overlay_strip(args, rec, phases, plt) -> None:
    """Camera, truth and the three outputs at one instant before, during and after the outage."""
    from dedelayed_models.classes import colorize
    from dedelayed_models.data import WorldSequence
    from dedelayed_models.evaluation import pair_streaming

    truth = sorted(rec.truth, key=lambda x: x[0])
    times = [t for t, _ in truth]
    picks = [(name, (lo + hi) / 2) for name, (lo, hi) in phases.items() if name != "whole drive"]
    picks = picks or [("middle", (times[0] + times[-1]) / 2)]
    hw = truth[0][1].shape
    world = WorldSequence(args.seed, num_frames=len(times), motion=args.motion, fps=args.fps,
                          camera_hw=hw)
    rows = ["camera", "ground truth", *LABELS]
    f, axes = plt.subplots(len(rows), len(picks), figsize=(3.2 * len(picks), 1.7 * len(rows)),
                           squeeze=False)
    for col, (name, when) in enumerate(picks):
        i = int(np.searchsorted(times, when))
        i = min(i, len(times) - 1)
        images = [world.frame(i, hw), colorize(truth[i][1])]
        for stream in LABELS:
            outs = rec.outputs.get(stream, [])
            j = pair_streaming([times[i]], [r for _, r, _ in outs])[0]
            ids = outs[j][2] if j is not None else np.full(hw, 255, np.uint8)
            import cv2
            images.append(colorize(cv2.resize(ids, (hw[1], hw[0]), interpolation=cv2.INTER_NEAREST)))
        for row, image in enumerate(images):
            ax = axes[row][col]
            ax.imshow(image)
            ax.set_xticks([]), ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(rows[row] if row < 2 else LABELS[rows[row]].split(" (")[0], fontsize=7)
            if row == 0:
                ax.set_title(f"{name} (t={times[i] - times[0]:.1f} s)", fontsize=8)
    f.tight_layout()
    f.savefig(os.path.join(args.out, "overlays.png"), dpi=100)
    plt.close(f)
