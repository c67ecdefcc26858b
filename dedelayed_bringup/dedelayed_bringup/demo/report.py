"""Writes demo_out/: figures.json, report.md, streaming_miou.png, tau_histogram.png, overlays.png
(drive.mcap, the recorded drive, is written by the recorder; its size is reported here).

Also prints the summary table to the terminal. Every number comes from the recording.
With ``--video`` the report also scores frame sets of the clip (``scoring.frame_set_scores``:
every labelled frame, and the held-out frames of the CamVid clip; 19 classes and the dataset's)
and says which frames each figure covers.
"""

import json
import os
import platform
import time

import numpy as np

from dedelayed_bringup.demo.scoring import frame_modes, frame_set_scores, outage_behaviour, streaming_scores, tau_check

LABELS = {"dedelayed": "Dedelayed (local + remote predictive)", "local_only": "local-only",
          "remote_only": "remote-only (stale remote answer)"}
COLORS = {"dedelayed": "tab:green", "local_only": "tab:blue", "remote_only": "tab:red"}


def _fmt(value, spec=".1f"):
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else format(value, spec)


def write_report(args, models, link, rec, *, cut_s, restore_s, cpu_cores, wall_start, video=None,
                 frame_log=None) -> dict:
    """Scores the recording ``rec`` and writes the report files to ``args.out``; the figures.

    video: the played ``demo.video.DemoVideo`` (None = the world); frame_log: the camera's frame
    log of that drive (which clip frame each stamp showed)."""
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
    frame_of = _frame_log(frame_log) if video else {}
    if video:
        figures["video"] = _video_figures(video, rec, frame_of)
    os.makedirs(args.out, exist_ok=True)
    _plots(args, rec, figures, phases, modes, _camera_images(video, frame_of))
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


def _frame_log(path) -> dict:
    """The camera's frame log (stamp -> (clip frame, loop)); {} with a warning when absent."""
    from dedelayed_bringup.synthetic_camera_node import read_frame_log

    if path and os.path.isfile(path):
        return read_frame_log(path)
    print(f"[demo] WARNING: no camera frame log at {path}: the figures per frame set are not "
          "available (the whole-drive figures are)")
    return {}


def _video_figures(video, rec, frame_of) -> dict:
    """The clip's description and its frame-set scores (``scoring.frame_set_scores``)."""
    return {"source": video.source, "root": video.root, "name": video.name, "fps": video.fps,
            "frames_per_loop": video.num_frames, "loops": video.loops,
            "labelled_frames": len(video.labeled_frames), "duration_s": video.duration_s,
            "dataset_classes_subset": video.labels_subset,
            "scores": frame_set_scores(rec, frame_of, video.frame_sets(), video.class_names)}


def _camera_images(video, frame_of):
    """camera_image(stamp [s], (H, W)) -> (H, W, 3) uint8 of the played clip, as the camera fitted
    it (the node's default resize policy); None for the world (re-rendered instead)."""
    if video is None:
        return None
    from dedelayed_models.data.resize import DEFAULT_RESIZE, fit_image

    folder = video.open()

    def camera_image(stamp, hw):
        shown = frame_of.get(round(stamp, 6))
        if shown is None:
            return np.zeros((*hw, 3), np.uint8)
        return fit_image(folder.frame(shown[0]), hw, DEFAULT_RESIZE)
    return camera_image


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
    phases = [p for p in fig["streams"]["dedelayed"]["mIoU_by_phase"] if p != "whole drive"]
    head = "| output | streaming mIoU | " + "".join(f"{p} | " for p in phases) + \
           "outputs | median latency ms |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for stream, label in LABELS.items():
        s = fig["streams"][stream]
        by = "".join(f"{_fmt(s['mIoU_by_phase'][p])} | " for p in phases)
        lat = s["output_latency_ms"]
        lines.append(f"| {label} | {_fmt(s['streaming_mIoU'])} | {by}"
                     f"{s['num_outputs']} | {_fmt(lat and lat['median'])} |")
    if "video" in fig:
        lines += ["", *_video_table(fig["video"])]
    f, o, t = fig["frames"], fig["outage"], fig["tau"]
    lines += ["", f"camera frames {f['num_frames']}, segmented {f['num_frames'] - f['num_missing']} "
                  f"(fused {f['num_fused']}, local-only {f['num_local_only']}, missing {f['num_missing']}); "
                  f"{f['mode_changes_after_startup']} mode changes after the first fused frame"]
    if o["injected"]:
        lines.append(f"outage {o['outage_s']:.1f} s: local-only after {_fmt(o['local_only_after_ms'], '.0f')} ms, "
                     f"fused again {_fmt(o['fused_again_after_ms'], '.0f')} ms after the link came back")
    lines.append(f"tau: robot estimate {_fmt(t['robot_estimate_ms'], '.0f')} ms vs round trip "
                 f"{t['round_trip_ms']:.0f} + remote compute "
                 f"{_fmt(t['remote_compute_ms'] and t['remote_compute_ms']['median'], '.0f')} "
                 f"= {_fmt(t['expected_ms'], '.0f')} ms "
                 f"({'within' if t['within_one_frame'] else 'NOT within'} "
                 f"one frame, {t['frame_period_ms']:.0f} ms)")
    lines.append(f"CPU: {fig['cpu_cores_used_total']:.2f} cores for the demo's processes "
                 f"({', '.join(f'{k} {v:.2f}' for k, v in fig['cpu_cores_used'].items())}); "
                 f"{fig['machine']['cpus']} CPUs, load average {fig['machine']['load_average_1_5_15'][0]}")
    if not fig["trained_models"]:
        lines.append("NOTE: UNTRAINED random models (no shipped checkpoint): these mIoU figures "
                     "say nothing about Dedelayed's accuracy, only that the system runs.")
    return "\n".join(lines)


def _video_table(v) -> list:
    """Streaming mIoU per output on each frame set of the clip, and which instants each covers."""
    scores, sets = v["scores"], v["scores"]["sets"]
    classes = scores["dataset_classes"]
    subset = v["dataset_classes_subset"]
    head = "| output (clip frames) |"
    for name in sets:
        head += f" {name}: 19 classes |" + (f" {len(classes)} dataset classes |" if subset else "")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for stream, label in LABELS.items():
        cells = []
        for name in sets:
            cells.append(_fmt(scores[stream][name]["mIoU"]))
            if subset:
                cells.append(_fmt(scores[stream][name]["mIoU_dataset_classes"]))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    loops = f"{v['loops']} loop{'s' if v['loops'] != 1 else ''}"
    every_loop = f" in any of the {loops}" if v["loops"] > 1 else ""
    covers = "; ".join(f"'{name}' = the {s['instants']} labelled camera instants showing clip frames "
                       f"{s['frames'][0]}-{s['frames'][1]}{every_loop}" for name, s in sets.items())
    lines.append(f"clip {v['name']} ({v['source']}, {v['frames_per_loop']} frames at {v['fps']:g} fps, "
                 f"{loops}). Frames covered: the streaming mIoU above = every camera instant of the "
                 f"drive; {covers}.")
    if subset:
        lines.append(f"dataset classes ({len(classes)}, the only ones its labels hold): "
                     f"{', '.join(classes)}.")
    if scores["instants_not_in_log"]:
        lines.append(f"{scores['instants_not_in_log']} ground-truth instants are not in the camera's "
                     "frame log and are in no frame set.")
    return lines


def _markdown(fig, table) -> str:
    s = fig["settings"]
    warn = ("" if fig["trained_models"] else
            "> **Untrained models.** No trained checkpoint was found, so robot and cloud ran random "
            "weights. The accuracy figures below only show that the system runs end to end.\n\n")
    if "video" in fig:
        v = fig["video"]
        drive = (f"the real clip {v['name']} ({v['root']}), {v['frames_per_loop']} frames played "
                 f"{v['loops']} times = {s['duration_s']:.1f} s at {s['fps']:g} fps (its own rate), "
                 "fitted to the camera by the data layer's crop policy")
    else:
        drive = f"world seed {s['seed']}, motion {s['motion']}, {s['duration_s']:g} s at {s['fps']:g} fps"
    return (f"# Dedelayed demo report\n\n{warn}"
            f"Drive: {drive}, camera {s['camera_hw'][0]}x{s['camera_hw'][1]}. Models: {fig['models']}.\n"
            f"Link: {fig['link']['delay_ms_each_way']:g} ms each way (round trip "
            f"{fig['link']['round_trip_ms']:g} ms), jitter {fig['link']['jitter_ms']:g} ms, loss "
            f"{fig['link']['loss']:g}; {_outage_words(s['outage_s'])}.\n\n"
            f"{_seam_note(fig)}"
            "Streaming mIoU (Li et al. 2020): each ground-truth instant (a camera frame's stamp) is "
            "scored against the latest output the recorder had received by then.\n\n"
            f"{table}\n\n"
            "![streaming mIoU over time](streaming_miou.png)\n\n"
            "![tau histogram](tau_histogram.png)\n\n"
            "![overlays](overlays.png)\n\n"
            f"All figures: `figures.json`. Wall time {fig['wall_time_s']:.0f} s.\n")


def _outage_words(outage_s: float) -> str:
    return f"outage {outage_s:g} s in the middle" if outage_s else "no outage"


def _seam_note(fig) -> str:
    """A looped clip jumps back to its first frame at each seam: say so (markdown paragraph)."""
    v = fig.get("video")
    if not v or v["loops"] < 2:
        return ""
    return (f"The clip plays {v['loops']} times back to back: at each seam the scene jumps from "
            f"frame {v['frames_per_loop'] - 1} to frame 0, and for a few frames the cloud's "
            "context spans the cut.\n\n")


def _plots(args, rec, fig, phases, modes, camera_image=None) -> None:
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
    _overlay_strip(args, rec, phases, plt, camera_image)


def _overlay_strip(args, rec, phases, plt, camera_image=None) -> None:
    """Camera, truth and the three outputs at one instant before, during and after the outage.

    camera_image(stamp [s], (H, W)) gives the camera frame of a played clip; None = the world,
    re-rendered."""
    from dedelayed_models.classes import colorize
    from dedelayed_models.data import WorldSequence
    from dedelayed_models.evaluation import pair_streaming

    truth = sorted(rec.truth, key=lambda x: x[0])
    times = [t for t, _ in truth]
    picks = [(name, (lo + hi) / 2) for name, (lo, hi) in phases.items() if name != "whole drive"]
    picks = picks or [("middle", (times[0] + times[-1]) / 2)]
    hw = truth[0][1].shape
    world = None if camera_image else WorldSequence(args.seed, num_frames=len(times), motion=args.motion,
                                                    fps=args.fps, camera_hw=hw)
    rows = ["camera", "ground truth", *LABELS]
    f, axes = plt.subplots(len(rows), len(picks), figsize=(3.2 * len(picks), 1.7 * len(rows)),
                           squeeze=False)
    for col, (name, when) in enumerate(picks):
        i = int(np.searchsorted(times, when))
        i = min(i, len(times) - 1)
        camera = camera_image(times[i], hw) if camera_image else world.frame(i, hw)
        images = [camera, colorize(truth[i][1])]
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
