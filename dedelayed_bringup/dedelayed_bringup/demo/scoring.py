"""Scores a demo recording: streaming mIoU per output, per-frame mode, tau against the link.

Streaming (Li et al. 2020; docs/ARCHITECTURE.md): every ground-truth instant (a camera frame's
stamp) is scored against the latest output the recorder had *received* by then, whichever frame
that output describes; instants before an output's first answer count as all wrong. The three
outputs face the same frames and the same timing: Dedelayed and local-only are computed by the
robot on the same frame (``publish_local_only``), remote-only is the cloud's own answer carried
back over the same emulated link.

A real clip (``--video``) is scored the same way, and ``frame_set_scores`` restricts the same
streaming pairs to the instants showing chosen frames of the clip (the camera's frame log says
which frame each stamp showed), with the mIoU over the classes the dataset labels beside the
19-class one.
"""

from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from dedelayed_bringup.demo.recorder import STREAMS, Recording
from dedelayed_models.classes import IGNORE_ID
from dedelayed_models.evaluation import SemSegEvaluator, StreamingEvaluator, pair_streaming, subset_miou


def _at_size(ids: np.ndarray, hw) -> np.ndarray:
    """Class ids at the ground truth's size (nearest: ids are labels, never blended)."""
    if ids.shape == tuple(hw):
        return ids
    return cv2.resize(ids, (hw[1], hw[0]), interpolation=cv2.INTER_NEAREST)


def _percentiles(values: Sequence[float]) -> Optional[dict]:
    if not len(values):
        return None
    v = np.asarray(values, np.float64)
    return {"median": float(np.median(v)), "p5": float(np.percentile(v, 5)),
            "p95": float(np.percentile(v, 95)), "mean": float(v.mean()), "n": int(v.size)}


def streaming_scores(rec: Recording, phases: Dict[str, tuple], bin_s: float = 1.0) -> dict:
    """Streaming mIoU per stream: whole drive, each phase (name -> (start_s, end_s)), per bin."""
    truth = sorted(rec.truth, key=lambda x: x[0])
    gt_times = [t for t, _ in truth]
    gts = [g for _, g in truth]
    hw = gts[0].shape if gts else (0, 0)
    start = gt_times[0] if gt_times else 0.0
    result = {}
    for stream in STREAMS:
        outputs = rec.outputs.get(stream, [])
        finished = [received for _, received, _ in outputs]
        preds = [_at_size(ids, hw) for _, _, ids in outputs]
        whole = StreamingEvaluator()
        whole.process_stream(gt_times, gts, finished, preds)
        scores = whole.evaluate()
        pairs = pair_streaming(gt_times, finished)
        by_phase, bins = {}, {}
        for name, (lo, hi) in phases.items():
            by_phase[name] = _score_subset(gts, preds, pairs,
                                           [i for i, t in enumerate(gt_times) if lo <= t < hi])
        for i, t in enumerate(gt_times):
            bins.setdefault(int((t - start) // bin_s), []).append(i)
        timeline = [(k * bin_s + bin_s / 2, _score_subset(gts, preds, pairs, idx))
                    for k, idx in sorted(bins.items())]
        staleness_ms = [(gt_times[i] - outputs[j][0]) * 1e3
                        for i, j in enumerate(pairs) if j is not None]
        result[stream] = {
            "streaming_mIoU": scores["mIoU"], "num_instants": scores["num_instants"],
            "num_unanswered": scores["num_unanswered"], "num_outputs": len(outputs),
            "mIoU_by_phase": by_phase,
            "timeline_s": [t for t, _ in timeline], "timeline_mIoU": [m for _, m in timeline],
            "output_latency_ms": _percentiles([(r - s) * 1e3 for s, r, _ in outputs]),
            "staleness_ms": _percentiles(staleness_ms)}
    return result


def _evaluate_subset(gts, preds, pairs, indexes: List[int]) -> Optional[dict]:
    """``SemSegEvaluator.evaluate()`` over the instants ``indexes`` (streaming ``pairs``: the
    output each instant is scored against, None = none yet, all wrong); None for no instants."""
    if not indexes:
        return None
    evaluator = SemSegEvaluator()
    for i in indexes:
        j = pairs[i]
        pred = preds[j] if j is not None else np.full(gts[i].shape, -1, np.int64)
        evaluator.process(pred, gts[i])
    return evaluator.evaluate()


def _score_subset(gts, preds, pairs, indexes: List[int]) -> Optional[float]:
    result = _evaluate_subset(gts, preds, pairs, indexes)
    return None if result is None else result["mIoU"]


def frame_set_scores(rec: Recording, frame_of: Dict[float, tuple], frame_sets: Dict[str, tuple],
                     class_names: Sequence[str]) -> dict:
    """Streaming mIoU per stream over the labelled instants that show source frames in each set.

    frame_of: camera stamp [s] rounded to 1 us -> (source frame, loop), the camera's frame log
    (``synthetic_camera_node.read_frame_log``); frame_sets: name -> [start, stop) source frames;
    class_names: the classes the dataset labels. Instants are paired with outputs over the whole
    drive, exactly as ``streaming_scores`` pairs them; a set only picks which instants count.
    Returns {"sets": {name: {"frames", "instants"}}, "instants_not_in_log", stream: {name:
    {"mIoU" (19 classes), "mIoU_dataset_classes"}}}.
    """
    truth = sorted(rec.truth, key=lambda x: x[0])
    gt_times = [t for t, _ in truth]
    gts = [g for _, g in truth]
    hw = gts[0].shape if gts else (0, 0)
    shown = [frame_of.get(round(t, 6)) for t in gt_times]
    labelled = [bool((g != IGNORE_ID).any()) for g in gts]
    members = {name: [i for i, f in enumerate(shown) if f is not None and labelled[i] and lo <= f[0] < hi]
               for name, (lo, hi) in frame_sets.items()}
    result = {"sets": {name: {"frames": [lo, hi - 1], "instants": len(members[name])}
                       for name, (lo, hi) in frame_sets.items()},
              "instants_not_in_log": sum(f is None for f in shown),
              "dataset_classes": list(class_names)}
    for stream in STREAMS:
        outputs = rec.outputs.get(stream, [])
        pairs = pair_streaming(gt_times, [received for _, received, _ in outputs])
        preds = [_at_size(ids, hw) for _, _, ids in outputs]
        result[stream] = {}
        for name, indexes in members.items():
            scores = _evaluate_subset(gts, preds, pairs, indexes)
            result[stream][name] = {
                "mIoU": None if scores is None else scores["mIoU"],
                "mIoU_dataset_classes": None if scores is None else subset_miou(scores, class_names)}
    return result


def frame_modes(rec: Recording) -> dict:
    """Per camera frame: answered at all, and fused or local-only (fused != local-only output).

    A frame segmented local-only publishes the same ids on both topics (one pass); with remote
    features added the ids differ somewhere (the features are never exactly zero).
    """
    truth_stamps = sorted(t for t, _ in rec.truth)
    fused = {round(s, 6): ids for s, _, ids in rec.outputs.get("dedelayed", [])}
    local = {round(s, 6): ids for s, _, ids in rec.outputs.get("local_only", [])}
    modes = []
    for s in truth_stamps:
        key = round(s, 6)
        if key not in fused:
            modes.append((s, "missing"))
        elif key in local and np.array_equal(fused[key], local[key]):
            modes.append((s, "local_only"))
        else:
            modes.append((s, "fused"))
    missing = [s for s, m in modes if m == "missing"]
    answered = [m for _, m in modes if m != "missing"]
    first_fused = answered.index("fused") if "fused" in answered else len(answered)
    changes = [i for i in range(1, len(answered)) if answered[i] != answered[i - 1]]
    return {"modes": modes, "num_frames": len(truth_stamps), "num_missing": len(missing),
            # fused <-> local-only switches, and those after the first fused frame (start-up)
            "mode_changes": len(changes),
            "mode_changes_after_startup": sum(i > first_fused for i in changes),
            "missing_stamps_s": missing[:20],
            "num_fused": sum(m == "fused" for _, m in modes),
            "num_local_only": sum(m == "local_only" for _, m in modes)}


def outage_behaviour(modes: list, cut_s: Optional[float], restore_s: Optional[float]) -> dict:
    """When the robot went local-only after the cut and fused again after the restore [ms]."""
    if cut_s is None or restore_s is None:
        return {"injected": False}
    window = [(s, m) for s, m in modes if cut_s <= s < restore_s]
    # Features already in flight may still be fused just after the cut: local-only starts at
    # the first frame from which every frame until the restore is local-only.
    first_local = None
    for s, m in reversed(window):
        if m != "local_only":
            break
        first_local = s
    all_local = bool(window) and first_local is not None and \
        all(m == "local_only" for s, m in window if s >= first_local)
    first_fused_after = next((s for s, m in modes if s >= restore_s and m == "fused"), None)
    fused_before_cut = [m for s, m in modes if s < cut_s][-30:]
    return {"injected": True, "cut_s": cut_s, "restore_s": restore_s,
            "outage_s": restore_s - cut_s,
            "fused_before_cut": "fused" in fused_before_cut,   # within the last 30 frames
            "local_only_after_ms": None if first_local is None else (first_local - cut_s) * 1e3,
            "all_local_only_until_restore": all_local,
            "fused_again_after_ms": (None if first_fused_after is None
                                     else (first_fused_after - restore_s) * 1e3)}


def tau_check(rec: Recording, round_trip_ms: float, frame_period_ms: float) -> dict:
    """The robot's tau estimate against emulated round trip + measured remote compute.

    Remote compute is what the cloud measured holding each frame (FeatureMap remote receive ->
    publish time): decode, the newest-only wait behind the batch in progress, forward, encode.
    """
    reports = [d for _, d, _, n in rec.delay_reports if n > 0]
    compute = [c for _, _, c, _ in rec.features]
    diag_tau = [d["tau_ms"] for d in rec.diagnostics if d["mode"] == "fused" and d["tau_ms"]]
    estimate = float(np.median(reports)) if reports else None
    expected = round_trip_ms + float(np.median(compute)) if compute else None
    error = None if estimate is None or expected is None else estimate - expected
    received = sorted(r for _, r, _, _ in rec.features)
    intervals = [(b - a) * 1e3 for a, b in zip(received, received[1:])]
    # tau is measured at camera frames: on top of round trip + compute a frame waits for the next
    # camera frame after the answer arrived (< 1 frame) and for the next answer (< 1 interval).
    upper = None if expected is None or not intervals else \
        expected + float(np.median(intervals)) + frame_period_ms
    return {"round_trip_ms": round_trip_ms, "remote_compute_ms": _percentiles(compute),
            "expected_ms": expected, "robot_estimate_ms": estimate,
            "robot_estimate_series_ms": _percentiles(reports), "diagnostics_tau_ms": _percentiles(diag_tau),
            "error_ms": error, "frame_period_ms": frame_period_ms,
            "answer_interval_ms": _percentiles(intervals), "upper_bound_ms": upper,
            "within_one_frame": error is not None and abs(error) <= frame_period_ms,
            "within_bound": estimate is not None and upper is not None
            and expected - frame_period_ms <= estimate <= upper}
