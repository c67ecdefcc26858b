"""The deployment benchmark's tables: one function per section, as markdown (also printed)."""

from __future__ import annotations

from typing import Dict, List

from dedelayed_bringup.bench.robot import MODES, STAGES


def _met(check: Dict) -> str:
    return f"{check['value']:.3f} (limit {check['limit']:g}: {'met' if check['met'] else '**NOT met**'})"


def robot_table(rows: List[Dict]) -> str:
    head = "| preset | model HxW | camera HxW | device | mode | " + " | ".join(STAGES) + " | total |"
    lines = [head, "|" + "---|" * (len(STAGES) + 6)]
    for r in rows:
        for mode in MODES:
            ms = r["modes"][mode]
            lines.append(f"| {r['preset']} | {r['model_hw'][0]}x{r['model_hw'][1]} | "
                         f"{r['camera_hw'][0]}x{r['camera_hw'][1]} | {r['device']} | {mode} | "
                         + " | ".join(f"{ms[s]:.2f}" for s in STAGES) + f" | {ms['total']:.2f} |")
    lines.append("")
    for r in rows:
        plumbing = r["ros_plumbing_ms"]
        # The plumbing budget is defined for 256x512 camera frames only.
        plumbing_text = (_met(plumbing) if tuple(r["camera_hw"]) == (256, 512)
                         else f"{plumbing['value']:.3f} (budget is for 256x512)")
        lines.append(f"- {r['preset']} {r['model_hw'][0]}x{r['model_hw'][1]}: fused/local-only "
                     f"{_met(r['fused_over_local_only'])}, the fuse stage alone "
                     f"{100 * r['fuse_stage_fraction']:.2f}% of a local-only frame; ROS plumbing "
                     f"(conversion + publish) ms {plumbing_text} at camera "
                     f"{r['camera_hw'][0]}x{r['camera_hw'][1]}")
        for name, b in r["backends"].items():
            lines.append(f"  - {name} whole network: local-only {b['network_ms']['local_only']:.2f} ms, "
                         f"fused {b['network_ms']['fused']:.2f} ms, ratio {_met(b['fused_over_local_only'])}")
    return "\n".join(lines)


def link_table(rows: List[Dict]) -> str:
    lines = ["| preset | direction | what | bytes/message | Mbit/s at 30 fps | of float32 |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        up = r["uplink"]
        lines.append(f"| {r['preset']} | uplink | WebP q{up['webp_quality']} {up['remote_hw'][0]}x"
                     f"{up['remote_hw'][1]} | {up['bytes_per_frame']:.0f} | {up['mbit_per_s']:.2f} | |")
        shape = "x".join(map(str, r["downlink"]["z_shape"]))
        for enc, d in r["downlink"]["per_encoding"].items():
            lines.append(f"| {r['preset']} | downlink | FeatureMap {enc} {shape} | {d['bytes']} | "
                         f"{d['mbit_per_s']:.2f} | {d['fraction_of_float32']:.3f} |")
    lines.append("")
    for r in rows:
        t = r["token_resolution_option"]
        lines.append(f"- {r['preset']}: z at the remote token grid would be {t['values']} values vs "
                     f"{t['z_values']} ({t['ratio_to_z']:.2f}x); not implemented")
    return "\n".join(lines)


def cloud_table(results: List[Dict]) -> str:
    lines = ["| preset | device | K | robots B | forward ms (median) | features/s |",
             "|---|---|---|---|---|---|"]
    for res in results:
        for row in res["rows"]:
            lines.append(f"| {res['preset']} | {res['device']} | {row['K']} | {row['batch_size']} | "
                         f"{row['forward_ms_median']:.1f} | {row['features_per_s']:.2f} |")
    lines.append("")
    for res in results:
        for k, best in res["robots_per_device"].items():
            lines.append(f"- {res['preset']} on {res['device']}, K={k}: {best['features_per_s']:.2f} "
                         f"features/s = {best['robots_at_rate']:.2f} robots at {res['rate_hz']:g} fps")
    return "\n".join(lines)


def memory_table(result: Dict) -> str:
    lines = ["| process | peak RSS MiB (VmHWM) | RSS MiB at end |", "|---|---|---|"]
    for name, m in result["processes"].items():
        lines.append(f"| {name} | {m['peak_rss_mib']:.0f} | {m['rss_mib']:.0f} |")
    c = result["counts"]
    lines.append(f"\n{result['preset']}, camera {result['camera_hw'][0]}x{result['camera_hw'][1]} "
                 f"at {result['rate_hz']:g} fps for {result['duration_s']:g} s: "
                 f"{c['camera_frames']} frames in, {c['segmentations']} segmentations out, "
                 f"{c['feature_maps']} FeatureMaps received")
    return "\n".join(lines)
