"""Rasterise one frame of a layout: painter's algorithm with OpenCV polygon fills.

Image and label are filled by the *same* integer polygon (sub-pixel vertices, ``shift=4``), so
every labelled pixel is exactly the pixel the image paints: labels are exact at whatever size
is rendered. Order: sky, far skyline, terrain, sidewalks and road, lane paint, then buildings,
boundaries (fences, walls, hedges), then poles, trees, signs, lights and agents sorted far to
near. The output image is flat-shaded; ``effects.Look.finish`` adds texture, light and blur.
"""

import cv2
import numpy as np

from .camera import HFOV_DEG, NEAR_M, Camera, EgoPose, clip_near
from .layout import LANE_WIDTH_M, Layout
from .shapes import ROAD, SIDEWALK, TERRAIN, Shapes

SHIFT = 4                     # OpenCV fixed-point bits for sub-pixel polygon vertices
DRAW_DISTANCE_M = 160.0       # road, buildings, skyline
SMALL_DRAW_DISTANCE_M = 110.0  # poles, trees, signs, people: under ~4 px wide beyond at 512 px
_GROUND_S = np.concatenate([np.linspace(0.0, 12.0, 14)[:-1], np.geomspace(12.0, DRAW_DISTANCE_M, 24)])
DASH_PERIOD_M, DASH_LENGTH_M = 12.0, 3.0


def _fixed(uv: np.ndarray) -> np.ndarray:
    return np.round(np.clip(uv, -1e5, 1e5) * (1 << SHIFT)).astype(np.int32)


class Canvas:
    """Label (H, W) uint8 and, unless labels only, a flat-shaded RGB image (H, W, 3) uint8."""

    def __init__(self, label: np.ndarray, image, light: np.ndarray):
        self.label, self.image, self.light = label, image, light

    def color(self, rgb) -> list:
        """Scene colour under this sequence's light, as OpenCV wants it."""
        return (np.asarray(rgb, np.float32) * self.light).tolist()

    def fill(self, uv: np.ndarray, train_id, rgb, convex: bool = True):
        pts = _fixed(uv)
        fill = cv2.fillConvexPoly if convex else (lambda im, p, c, lt, s: cv2.fillPoly(im, [p], c, lt, s))
        if train_id is not None:
            fill(self.label, pts, int(train_id), cv2.LINE_8, SHIFT)
        if self.image is not None and rgb is not None:
            fill(self.image, pts, self.color(rgb), cv2.LINE_8, SHIFT)


def render_layout(layout: Layout, pose: EgoPose, scene_time_s: float, height_px: int, width_px: int,
                  background, light) -> tuple:
    """Returns ``(image or None, label)``.

    background: (H, W, 3) uint8 sky, already lit, or None to render labels only.
    light: (3,) per-channel gain applied to every drawn colour.
    """
    cam = Camera(height_px, width_px, pose)
    canvas = Canvas(np.full((height_px, width_px), 10, np.uint8),
                    None if background is None else background.copy(), light)
    _skyline(canvas, cam, layout)
    _ground(canvas, cam, layout)
    shapes = Shapes(pose.s_m, pose.l_m, pose.height_m, detail=canvas.image is not None)
    _collect(shapes, layout, pose, scene_time_s)
    _draw_shapes(canvas, cam, layout, shapes)
    return canvas.image, canvas.label


def _skyline(canvas: Canvas, cam: Camera, layout: Layout):
    """Far city/tree line at infinity: it turns with the ego's yaw but has no parallax."""
    n_bins = len(layout.skyline_elev_rad)
    bin_rad = 2 * np.pi / n_bins
    half = np.deg2rad(HFOV_DEG / 2 + 4)
    i0 = int(np.floor((cam.pose.yaw_rad - half) / bin_rad))
    idx = np.arange(i0, i0 + int(2 * half / bin_rad) + 2)
    elev, cls = layout.skyline_elev_rad[idx % n_bins], layout.skyline_class[idx % n_bins]
    az = np.stack([idx, idx + 1], 1).ravel() * bin_rad            # step profile: 2 points per bin
    x, y, z = cam.direction_to_camera(np.concatenate([az, az]),
                                      np.concatenate([np.repeat(elev, 2), np.full(len(az), -0.02)]))
    u, v = cam.to_pixels(x, y, z)
    top, bottom = np.stack([u[:len(az)], v[:len(az)]], 1), np.stack([u[len(az):], v[len(az):]], 1)
    cuts = np.flatnonzero(np.diff(cls)) + 1
    for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(idx)]])):
        rgb = layout.skyline_rgb * (np.array([0.7, 0.8, 0.7]) if cls[a] == 8 else 1.0)
        canvas.fill(np.concatenate([top[2 * a:2 * b], bottom[2 * a:2 * b][::-1]]), cls[a], rgb, convex=False)


def _ground(canvas: Canvas, cam: Camera, layout: Layout):
    colors, road, pose = layout.colors, layout.road, cam.pose
    az = pose.yaw_rad + np.array([-1.0, 1.0])
    x, y, z = cam.direction_to_camera(az, np.zeros(2))
    u, v = cam.to_pixels(x, y, z)
    far = 20.0 * cam.h
    canvas.fill(np.array([[u[0], v[0]], [u[1], v[1]], [u[1], far], [u[0], far]]), TERRAIN, colors["terrain"])
    half, sw = road.half_width_m, road.sidewalk_width_m
    s = pose.s_m + _GROUND_S
    edges = np.array([-half - sw, -half, -half + 0.25, half - 0.25, half, half + sw,
                      -half + 0.3, -half + 0.42, half - 0.42, half - 0.3])
    ss, ll = np.meshgrid(s, edges)
    X, Y, Z = cam.world_to_camera(*road.to_world(ss.ravel(), ll.ravel()), 0.0)
    X, Y, Z = (a.reshape(ss.shape) for a in (X, Y, Z))
    ok = (Z > NEAR_M).all(axis=0)
    U, V = cam.to_pixels(X[:, ok], Y[:, ok], Z[:, ok])

    def strip(a, b, train_id, rgb):
        uv = np.concatenate([np.stack([U[a], V[a]], 1), np.stack([U[b], V[b]], 1)[::-1]])
        canvas.fill(uv, train_id, rgb, convex=False)

    strip(0, 1, SIDEWALK, colors["sidewalk"])
    strip(4, 5, SIDEWALK, colors["sidewalk"])
    strip(1, 4, ROAD, colors["road"])
    if canvas.image is None:
        return
    kerb = np.minimum(colors["sidewalk"] * 1.2, 255)
    strip(1, 2, None, kerb * 0.9 + colors["road"] * 0.1)
    strip(3, 4, None, kerb)
    strip(6, 7, None, colors["lane_paint"])
    strip(8, 9, None, colors["lane_paint"])
    _dashes(canvas, cam, layout)


def _dashes(canvas: Canvas, cam: Camera, layout: Layout):
    """Dashed lane dividers (and a solid double centre line on wider roads), image only."""
    road, s_e = layout.road, cam.pose.s_m
    lanes = road.lanes_per_direction
    offsets = [0.0] if lanes == 1 else [-LANE_WIDTH_M, LANE_WIDTH_M]
    s0 = np.arange(np.floor(s_e / DASH_PERIOD_M) * DASH_PERIOD_M, s_e + 70.0, DASH_PERIOD_M)
    dash_s = np.stack([s0, s0 + DASH_LENGTH_M, s0 + DASH_LENGTH_M, s0], 1)
    quad_s, quad_l = [], []
    for off in offsets:
        quad_s.append(dash_s)
        quad_l.append(np.broadcast_to([off - 0.07, off - 0.07, off + 0.07, off + 0.07], dash_s.shape))
    if lanes > 1:
        for off in (-0.12, 0.12):
            quad_s.append(np.array([[s_e, s_e + 70.0, s_e + 70.0, s_e]]))
            quad_l.append(np.array([[off - 0.05, off - 0.05, off + 0.05, off + 0.05]]))
    qs, ql = np.concatenate(quad_s), np.concatenate(quad_l)
    X, Y, Z = cam.world_to_camera(*road.to_world(qs.ravel(), ql.ravel()), 0.0)
    keep = (Z.reshape(qs.shape) > NEAR_M).all(axis=1)
    u, v = cam.to_pixels(X, Y, np.maximum(Z, NEAR_M))
    quads = _fixed(np.stack([u, v], 1)).reshape(-1, 4, 2)[keep]
    if len(quads):
        cv2.fillPoly(canvas.image, list(quads), canvas.color(layout.colors["lane_paint"]), cv2.LINE_8, SHIFT)


def _collect(shapes: Shapes, layout: Layout, pose: EgoPose, scene_time_s: float):
    s_e, l_e = pose.s_m, pose.l_m
    visible = np.flatnonzero((layout.prop_s_max > s_e - 4.0) & (layout.prop_s_min < s_e + DRAW_DISTANCE_M))
    for i in visible:
        p = layout.props[i]
        if p.kind == "building":
            depth = max(p.s0 - s_e, 0.0) + 0.01 * abs(p.l0)
        elif p.s0 > s_e + SMALL_DRAW_DISTANCE_M and p.kind not in ("fence", "wall", "hedge"):
            continue
        else:
            depth = float(np.hypot(0.5 * (p.s0 + p.s1) - s_e, 0.5 * (p.l0 + p.l1) - l_e))
        shapes.prop(p, depth)
    ag = layout.agents
    s, l = ag.positions(scene_time_s)
    rel = s - s_e
    for i in np.flatnonzero((rel > -ag.length_m) & (rel < SMALL_DRAW_DISTANCE_M)):
        walk_m = abs(ag.v_s_mps[i]) * scene_time_s + abs(l[i] - ag.l0_m[i])
        shapes.agent(ag.kind[i], s[i], l[i], ag.length_m[i], ag.width_m[i], ag.height_m[i],
                     ag.rgb[i], ag.rgb2[i], walk_m, float(np.hypot(rel[i], l[i] - l_e)))


def _draw_shapes(canvas: Canvas, cam: Camera, layout: Layout, shapes: Shapes):
    if not shapes.items:
        return
    pts = np.array(shapes.points, dtype=np.float64)
    X, Y, Z = cam.world_to_camera(*layout.road.to_world(pts[:, 0], pts[:, 1]), pts[:, 2])
    U, V = cam.to_pixels(X, Y, np.maximum(Z, NEAR_M))
    fixed = _fixed(np.stack([U, V], 1))
    boards = [it for it in shapes.items if it[3] == "board"]
    board_pts = {}
    if boards:                                     # all camera-facing cut-outs in one go
        anchors = np.array([it[4] for it in boards])
        sizes = np.array([len(it[8]) for it in boards])
        outline = np.concatenate([it[8] for it in boards])
        owner = np.repeat(anchors, sizes)
        k = cam.f / np.maximum(Z[owner], NEAR_M)
        dx, dy = outline[:, 0] * k, -outline[:, 1] * k
        cr, sr = np.cos(cam.pose.roll_rad), np.sin(cam.pose.roll_rad)
        uv = _fixed(np.stack([U[owner] + dx * cr - dy * sr, V[owner] + dx * sr + dy * cr], 1))
        ends = np.cumsum(sizes)
        for it, a, b in zip(boards, ends - sizes, ends):
            board_pts[it[2]] = uv[a:b]
    image, label_img = canvas.image, canvas.label
    for layer, depth, order, kind, start, n, label, rgb, outline in sorted(
            shapes.items, key=lambda it: (it[0], -it[1], it[2])):
        if kind == "board":
            if Z[start] < NEAR_M + 0.2:
                continue
            poly = board_pts[order]
        elif kind == "quads":
            if Z[start:start + n].min() < NEAR_M:
                continue
            cv2.fillPoly(image, list(fixed[start:start + n].reshape(-1, 4, 2)), canvas.color(rgb), cv2.LINE_8, SHIFT)
            continue
        else:
            zs = Z[start:start + n]
            if zs.min() >= NEAR_M:
                poly = fixed[start:start + n]
            elif zs.max() < NEAR_M:
                continue
            else:
                c = clip_near(np.stack([X[start:start + n], Y[start:start + n], zs], 1))
                poly = _fixed(np.stack(cam.to_pixels(c[:, 0], c[:, 1], c[:, 2]), 1))
        if label is not None:
            cv2.fillConvexPoly(label_img, poly, label, cv2.LINE_8, SHIFT)
        if image is not None and rgb is not None:
            cv2.fillConvexPoly(image, poly, canvas.color(rgb), cv2.LINE_8, SHIFT)
