"""Plots (matplotlib, Agg) and the markdown report of the sweeps in ``sweeps.py``."""

from __future__ import annotations

import os
from typing import Dict, List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _ms(delays, frame_ms):
    return [d * frame_ms for d in delays]


def plot_all(results: Dict, out_dir: str) -> List[str]:
    """Write fig6/fig9/fig10/fig11/motion PNGs for whatever ``results`` holds; returns paths."""
    paths = []
    frame_ms = results["frame_ms"]

    def save(fig, name):
        path = os.path.join(out_dir, name)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    def line_plot(name, series, xlabel, ylabel, title):
        """One PNG of mIoU curves: series = [(label, xs, ys)]."""
        fig, ax = plt.subplots(figsize=(6, 4))
        for label, xs, ys in series:
            ax.plot(xs, ys, marker="o", label=label)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, name)

    if "delay_sweep" in results:
        ds = results["delay_sweep"]
        xs = _ms(ds["delays_frames"], frame_ms)
        line_plot("fig6_delay_sweep.png", [(m, xs, ys) for m, ys in ds["mIoU"].items()],
                  "round-trip delay (ms)", "mIoU (%)", "Fig. 6: mIoU vs delay")
    if "live_delay_sweep" in results:
        fig, axes = plt.subplots(1, len(results["live_delay_sweep"]), sharey=True,
                                 figsize=(4.5 * len(results["live_delay_sweep"]), 4), squeeze=False)
        for ax, (fps, row) in zip(axes[0], results["live_delay_sweep"].items()):
            for m, ys in row["mIoU"].items():
                ax.plot(row["delays_ms"], ys, marker="o", label=m)
            ax.set(xlabel="delay (ms)", title=f"{fps} fps camera")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("mIoU (%)")
        axes[0][0].legend(fontsize=8)
        rates = results["live_delay_sweep"]
        longest = max(row["delays_ms"][-1] for row in rates.values())
        fig.suptitle(f"Fig. 6 over 0-{longest:.0f} ms: mIoU vs delay at {len(rates)} frame rate(s)"
                     + (f" on {results['data']}" if "data" in results else ""))
        save(fig, "fig6_live_delay_sweep.png")
    if "jitter" in results:
        j = results["jitter"]
        fig, ax = plt.subplots(figsize=(6, 4.5))
        im = ax.imshow(j["matrix"], origin="lower", cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(j["observed_delays_frames"])), j["observed_delays_frames"])
        ax.set_yticks(range(len(j["input_delays_frames"])), j["input_delays_frames"])
        for r, row in enumerate(j["matrix"]):
            for c, v in enumerate(row):
                ax.text(c, r, f"{v:.1f}", ha="center", va="center", fontsize=7, color="w")
        ax.set(xlabel="observed delay (frames)", ylabel="model delay input (frames)",
               title="Fig. 9: Dedelayed mIoU (%)")
        fig.colorbar(im, ax=ax)
        save(fig, "fig9_jitter_matrix.png")
        xs = _ms(j["input_delays_frames"], frame_ms)
        line_plot("fig10_jitter_sigma.png",
                  [(f"σ = {sigma} ms", xs, ys) for sigma, ys in j["expected"].items()],
                  "mean round-trip delay (ms)", "expected mIoU (%)",
                  "Fig. 10: Dedelayed under Gaussian delay jitter")
    if "resolution" in results:
        r = results["resolution"]
        xs = [hw[0] for hw in r["local_hw"]]
        line_plot("fig11_local_resolution.png", [(m, xs, ys) for m, ys in r["mIoU"].items()],
                  "local input height (px)", "mIoU (%)",
                  f"Fig. 11: local resolution (delay {r['delay_frames']} frames)")
    if "motion" in results:
        mo = results["motion"]
        line_plot("motion_sweep.png",
                  [(m, mo["motions"], [mo["mIoU"][str(x)][m][mo["delay_index"]] for x in mo["motions"]])
                   for m in mo["methods"]],
                  "world motion knob", "mIoU (%)", f"Motion sweep at delay {mo['delay_frames']} frames")
    return paths


def _mIoU_table(corner: str, columns, rows) -> List[str]:
    """Markdown lines of a table: header ``corner | columns...``, then ``label | v:.2f...`` per
    (label, values) in rows."""
    lines = [f"| {corner} | " + " | ".join(str(c) for c in columns) + " |", "|---|" + "---|" * len(columns)]
    return lines + [f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |" for label, values in rows]


def _fig6_tables(title: str, columns, sweep: Dict, classes, count: str) -> List[str]:
    """One Fig. 6 table (19 classes), and the dataset-class one where the sweep has it."""
    lines = [f"{title}: mIoU (%) vs delay" + (", 19 classes" if classes else "") + count, ""]
    lines += _mIoU_table("method", columns, sweep["mIoU"].items()) + [""]
    if "mIoU_dataset_classes" in sweep:
        lines += [f"{title}: mIoU (%) over the {len(classes)} dataset classes vs delay{count}", ""]
        lines += _mIoU_table("method", columns, sweep["mIoU_dataset_classes"].items()) + [""]
    return lines


def markdown(results: Dict) -> str:
    """The report: setup, the Fig. 6 table, the target checks, jitter/resolution/motion tables."""
    lines = [f"# Dedelayed on {results.get('data', 'the synthetic world')}: evaluation report", "",
             "Generated by `python -m dedelayed_models.evaluate`; every number is measured.", ""]
    for k, v in results["setup"].items():
        lines.append(f"- {k}: {v}")
    lines.append("")
    frame_ms = results["frame_ms"]
    fps = results.get("fps", 1000.0 / frame_ms)
    classes = results.get("classes")
    subset = f"the {len(classes)} dataset classes" if classes else ""
    if "delay_sweep" in results:
        ds = results["delay_sweep"]
        columns = [f"{d} ({d * frame_ms:.0f} ms)" for d in ds["delays_frames"]]
        title = f"## Fig. 6, paper preset ({fps:g} fps, {ds['delays_frames'][0]}-{ds['delays_frames'][-1]} frames)"
        lines += _fig6_tables(title, columns, ds, classes, "")
    for rate, row in results.get("live_delay_sweep", {}).items():
        columns = [f"{ms:.0f} ms" for ms in row["delays_ms"]]
        lines += _fig6_tables(f"## Fig. 6 at {rate} fps", columns, row, classes,
                              f" ({row['scored_frames']} scored frames)")
    if "per_class_columns" in results:
        ds = results["delay_sweep"]
        cols = results["per_class_columns"]
        lines += [f"## Per-class IoU (%) over {subset} (paper-preset rows)", ""]
        lines += _mIoU_table("class", [f"{m} @ {ds['delays_frames'][i] * frame_ms:.0f} ms" for m, i in cols],
                             [(c, [ds["IoU"][m][i][c] for m, i in cols]) for c in classes])
        lines.append("")
    if "generalisation" in results:
        g = results["generalisation"]
        lines += [f"## Unseen seeds (val offset {g['seed_start']}, {g['sequences']} sequences, "
                  f"{g['fps']:g} fps): dedelayed - local image (mIoU) per motion and delay", ""]
        lines += _mIoU_table("motion", [f"{ms:.0f} ms" for ms in g["delays_ms"]],
                             [(mo, [d - lo for d, lo in zip(r["dedelayed"], r["local image"])])
                              for mo, r in g["mIoU"].items()])
        lines.append("")
    if "checks" in results:
        lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
        for c in results["checks"]:
            lines.append(f"| {c['target']} | {c['measured']} | {'yes' if c['met'] else '**no**'} |")
        lines.append("")
    if "jitter" in results:
        j = results["jitter"]
        over = f" over {subset}" if j.get("metric") == "dataset classes" else ""
        lines += [f"## Fig. 9: Dedelayed mIoU (%){over}, rows = delay input, columns = observed delay "
                  f"(frames of {frame_ms:.1f} ms)", ""]
        lines += _mIoU_table("input \\ observed", j["observed_delays_frames"],
                             zip(j["input_delays_frames"], j["matrix"]))
        lines += ["", f"## Fig. 10: expected Dedelayed mIoU (%){over} under N(input, σ²) observed delay", ""]
        lines += _mIoU_table("σ (ms)", j["input_delays_frames"], j["expected"].items())
        lines.append("")
    if "resolution" in results:
        r = results["resolution"]
        over = f" over {subset}" if r.get("metric") == "dataset classes" else ""
        lines += [f"## Fig. 11: local input resolution{over} (delay {r['delay_frames']} frames; "
                  f"scored at {r['label_hw'][0]}x{r['label_hw'][1]})", ""]
        lines += _mIoU_table("method", [f"{h}x{w}" for h, w in r["local_hw"]], r["mIoU"].items())
        lines.append("")
    if "motion" in results:
        mo = results["motion"]
        lines += [f"## Motion sweep at delay {mo['delay_frames']} frames (trained on motions 0.5-2)", ""]
        lines += _mIoU_table("method", mo["motions"],
                             [(m, [mo["mIoU"][str(x)][m][mo["delay_index"]] for x in mo["motions"]])
                              for m in mo["methods"]])
        lines.append("| dedelayed - remote image | " + " | ".join(
            f"{a:+.2f}" for a in mo["advantage_over_remote_image"]) + " |")
        lines.append("")
    return "\n".join(lines)
