"""Procedural layout of one world sequence: road, roadside props, moving agents.

Everything lives in *road coordinates*: ``s`` metres along the road centreline, ``l`` metres
to the left of it, ``h`` metres above the ground. The road is flat with gentle curves, so a
box that is axis-aligned in road coordinates bends with the road. Layouts are drawn from
``numpy.random.default_rng(seed)`` only, so a seed fixes the whole sequence.
"""

from dataclasses import dataclass, field

import numpy as np

from . import palette as pal

ROAD_SAMPLE_M = 0.5          # spacing of the tabulated centreline
EGO_SPEED_MPS = 5.5          # ego speed at motion 1 (20 km/h); calibrated on the CamVid staleness curve
LANE_WIDTH_M = 3.5
MAX_CURVATURE_PER_M = 1.0 / 110.0


@dataclass
class Road:
    """Tabulated centreline: position (x, y) and heading per ``ROAD_SAMPLE_M`` of arc length."""
    x_m: np.ndarray
    y_m: np.ndarray
    heading_rad: np.ndarray
    lanes_per_direction: int
    sidewalk_width_m: float

    @property
    def half_width_m(self) -> float:
        return self.lanes_per_direction * LANE_WIDTH_M

    def to_world(self, s_m, l_m):
        """Road coordinates (arrays) -> world ground-plane x, y in metres."""
        idx = np.asarray(s_m, dtype=np.float64) / ROAD_SAMPLE_M
        i0 = np.clip(idx.astype(np.int64), 0, len(self.x_m) - 2)
        frac = idx - i0
        x = self.x_m[i0] * (1 - frac) + self.x_m[i0 + 1] * frac
        y = self.y_m[i0] * (1 - frac) + self.y_m[i0 + 1] * frac
        th = self.heading_rad[i0] * (1 - frac) + self.heading_rad[i0 + 1] * frac
        return x - np.sin(th) * l_m, y + np.cos(th) * l_m

    def heading_at(self, s_m: float) -> float:
        return float(np.interp(s_m / ROAD_SAMPLE_M, np.arange(len(self.heading_rad)), self.heading_rad))


@dataclass
class Prop:
    """A static roadside thing: a road-aligned box [s0,s1]x[l0,l1]x[h0,h1] of one kind."""
    kind: str
    s0: float
    s1: float
    l0: float
    l1: float
    h0: float
    h1: float
    rgb: np.ndarray
    style: int = 0


@dataclass
class Agents:
    """Moving things as arrays (one entry per agent); positions are closed-form in scene time."""
    kind: list
    s0_m: np.ndarray
    l0_m: np.ndarray
    v_s_mps: np.ndarray
    v_l_mps: np.ndarray
    t_start_s: np.ndarray      # lateral motion starts here (crossing pedestrians)
    l_min_m: np.ndarray
    l_max_m: np.ndarray
    length_m: np.ndarray
    width_m: np.ndarray
    height_m: np.ndarray
    rgb: np.ndarray             # (N, 3) float32
    rgb2: np.ndarray            # (N, 3) float32, second colour (trousers, rider)

    def positions(self, scene_time_s: float):
        """(s, l) in metres of every agent at ``scene_time_s``."""
        s = self.s0_m + self.v_s_mps * scene_time_s
        dt = np.maximum(scene_time_s - self.t_start_s, 0.0)
        l = np.clip(self.l0_m + self.v_l_mps * dt, self.l_min_m, self.l_max_m)
        return s, l


@dataclass
class Layout:
    road: Road
    props: list
    prop_s_min: np.ndarray
    prop_s_max: np.ndarray
    agents: Agents
    skyline_elev_rad: np.ndarray   # far skyline elevation per world azimuth bin
    skyline_class: np.ndarray      # trainId per azimuth bin (building or vegetation)
    skyline_rgb: np.ndarray
    colors: dict = field(default_factory=dict)


def _make_road(rng, length_m: float) -> Road:
    n = int(length_m / ROAD_SAMPLE_M) + 2
    s = np.arange(n) * ROAD_SAMPLE_M
    curvature = np.zeros(n)
    for _ in range(3):
        wavelength = rng.uniform(150.0, 600.0)
        curvature += rng.uniform(-1, 1) * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi))
    curvature *= MAX_CURVATURE_PER_M / max(1.0, np.abs(curvature).max()) * rng.uniform(0.3, 1.0)
    heading = np.cumsum(curvature) * ROAD_SAMPLE_M
    x = np.cumsum(np.cos(heading)) * ROAD_SAMPLE_M
    y = np.cumsum(np.sin(heading)) * ROAD_SAMPLE_M
    return Road(x, y, heading, lanes_per_direction=int(rng.choice([1, 1, 2])),
                sidewalk_width_m=float(rng.uniform(2.0, 4.0)))


def _side_props(rng, road: Road, side: int, length_m: float) -> list:
    """Buildings, fences, walls, hedges, trees, poles, lamps, signs, lights on one side (+1 left)."""
    props = []
    kerb = road.half_width_m + road.sidewalk_width_m          # outer edge of the sidewalk
    urban = rng.uniform(0.4, 0.95)                           # share of the frontage with buildings
    s = rng.uniform(-20, 5)
    while s < length_m:                                      # frontage: buildings or boundaries
        seg = rng.uniform(8, 24)
        setback = rng.uniform(1.5, 6.0)
        if rng.random() < urban:
            h = rng.uniform(5, 22)
            l_near, l_far = kerb + setback, kerb + setback + rng.uniform(8, 15)
            tone = pal.BUILDING_TONES[rng.integers(len(pal.BUILDING_TONES))]
            props.append(Prop("building", s, s + seg, l_near, l_far, 0.0, h, pal.jitter(rng, tone),
                              style=int(rng.integers(0, 3))))
        kind = rng.choice(["fence", "wall", "hedge", "none"], p=[0.35, 0.2, 0.25, 0.2])
        if kind != "none":
            lb = kerb + rng.uniform(0.3, 1.2)
            h = {"fence": rng.uniform(1.0, 1.8), "wall": rng.uniform(0.8, 2.2), "hedge": rng.uniform(0.8, 1.6)}[kind]
            base = {"fence": pal.FENCE, "wall": pal.WALL, "hedge": pal.VEGETATION}[kind]
            props.append(Prop(str(kind), s, s + seg * rng.uniform(0.6, 1.0), lb, lb + 0.3, 0.0, h,
                              pal.jitter(rng, base)))
        s += seg + rng.uniform(0, 6)
    for kind, gap, l_rel in (("tree", (7, 22), (0.3, 0.9)), ("lamp", (20, 35), (0.05, 0.12)),
                             ("sign", (14, 45), (0.05, 0.2)), ("pole", (12, 30), (0.0, 0.1))):
        s = rng.uniform(0, gap[1])
        while s < length_m:
            l_pos = road.half_width_m + road.sidewalk_width_m * rng.uniform(*l_rel) + 0.3
            if kind == "tree":
                l_pos = kerb + rng.uniform(0.5, 3.0)
                r = rng.uniform(1.2, 3.0)
                props.append(Prop("tree", s, s + 0.3, l_pos, l_pos + 0.3, 0.0, rng.uniform(4, 10),
                                  pal.jitter(rng, pal.VEGETATION), style=int(r * 10)))
            elif kind == "lamp":
                props.append(Prop("lamp", s, s + 0.2, l_pos, l_pos + 0.2, 0.0, rng.uniform(6, 9),
                                  pal.jitter(rng, pal.POLE)))
            elif kind == "pole":
                props.append(Prop("pole", s, s + 0.15, l_pos, l_pos + 0.15, 0.0, rng.uniform(3, 6),
                                  pal.jitter(rng, pal.POLE)))
            else:
                props.append(Prop("sign", s, s + 0.06, l_pos, l_pos + 0.06, 0.0, rng.uniform(2.2, 3.2),
                                  pal.jitter(rng, pal.POLE), style=int(rng.integers(0, 4))))
            s += rng.uniform(*gap)
    s = rng.uniform(20, 80)
    while s < length_m:                                      # junctions: lights, overhead arm
        l_pos = road.half_width_m + 0.4
        props.append(Prop("light", s, s + 0.2, l_pos, l_pos + 0.2, 0.0, rng.uniform(4.5, 6.0),
                          pal.jitter(rng, pal.POLE), style=int(rng.integers(0, 3))))
        s += rng.uniform(60, 140)
    for p in props:                                          # mirror to the right side
        if side < 0:
            p.l0, p.l1 = -p.l1, -p.l0
    return props


def _make_agents(rng, road: Road, length_m: float, duration_s: float) -> Agents:
    rows = []
    half, sw = road.half_width_m, road.sidewalk_width_m
    big = 1e9
    ego_lane = -LANE_WIDTH_M / 2
    for gap in np.cumsum(rng.uniform(12, 45, size=3)):      # lead cars in the ego lane
        rows.append(("car", gap, ego_lane, EGO_SPEED_MPS, 0.0, 0.0, -big, big, 4.4, 1.8, 1.5))
    span = length_m + 14.0 * duration_s
    for _ in range(int(span / 35)):                         # oncoming traffic
        kind = rng.choice(["car", "car", "car", "truck", "bus"])
        lane = LANE_WIDTH_M / 2 + LANE_WIDTH_M * rng.integers(0, road.lanes_per_direction)
        dims = {"car": (4.4, 1.8, 1.5), "truck": (7.5, 2.5, 3.3), "bus": (11.5, 2.5, 3.1)}[kind]
        rows.append((kind, rng.uniform(0, span), lane, -rng.uniform(7, 13), 0.0, 0.0, -big, big, *dims))
    for _ in range(int(length_m / 60)):                     # parked cars at the kerb
        side = rng.choice([-1, 1])
        rows.append(("car", rng.uniform(0, length_m), side * (half - 1.0), 0.0, 0.0, 0.0, -big, big,
                     4.3, 1.8, rng.uniform(1.4, 1.7)))
    for _ in range(int(length_m / 14)):                     # pedestrians along the sidewalks
        side = rng.choice([-1, 1])
        rows.append(("person", rng.uniform(0, length_m), side * (half + rng.uniform(0.4, sw - 0.3)),
                     rng.choice([-1, 1]) * rng.uniform(0.8, 1.6), 0.0, 0.0, -big, big,
                     0.3, 0.55, rng.uniform(1.55, 1.9)))
    for _ in range(int(length_m / 70)):                     # pedestrians crossing the road
        side = rng.choice([-1, 1])
        rows.append(("person", rng.uniform(20, length_m), side * (half + 0.3), 0.0,
                     -side * rng.uniform(1.0, 1.6), rng.uniform(0, duration_s), -half - 0.3, half + 0.3,
                     0.3, 0.55, rng.uniform(1.55, 1.9)))
    for _ in range(int(length_m / 50)):                     # cyclists at the road edge
        side = rng.choice([-1, 1])
        v = rng.uniform(3.5, 6.5) * (1 if side < 0 else -1)
        rows.append(("cyclist", rng.uniform(0, span), side * (half - 0.7), v, 0.0, 0.0, -big, big,
                     1.7, 0.6, 1.75))
    n = len(rows)
    cols = list(zip(*rows))
    f = lambda i: np.asarray(cols[i], dtype=np.float64)  # noqa: E731
    rgb = np.stack([pal.agent_color(rng, k) for k in cols[0]]).astype(np.float32)
    rgb2 = np.stack([pal.jitter(rng, pal.CLOTHES[rng.integers(len(pal.CLOTHES))]) for _ in range(n)])
    return Agents(list(cols[0]), f(1), f(2), f(3), f(4), f(5), f(6), f(7), f(8), f(9), f(10),
                  rgb, rgb2.astype(np.float32))


def make_layout(seed: int, duration_s: float, ego_speed_mps: float = EGO_SPEED_MPS) -> Layout:
    """Draw the layout of sequence ``seed`` covering ``duration_s`` of scene time."""
    rng = np.random.default_rng([seed, 7321])
    length_m = ego_speed_mps * duration_s + 260.0
    road = _make_road(rng, length_m + 40.0)
    props = _side_props(rng, road, +1, length_m) + _side_props(rng, road, -1, length_m)
    props.sort(key=lambda p: p.s0)
    agents = _make_agents(rng, road, length_m, duration_s)
    n_bins = 720
    elev = np.zeros(n_bins)
    cls = np.zeros(n_bins, dtype=np.uint8)
    i = 0
    while i < n_bins:                                        # far skyline blocks, half a degree bins
        w = int(rng.integers(6, 40))
        is_building = rng.random() < 0.45
        elev[i:i + w] = np.deg2rad(rng.uniform(1.5, 6.0) if is_building else rng.uniform(0.8, 3.0))
        cls[i:i + w] = 2 if is_building else 8
        i += w
    colors = pal.sequence_colors(rng)
    return Layout(road, props, np.array([p.s0 for p in props]), np.array([p.s1 for p in props]),
                  agents, elev, cls, pal.jitter(rng, pal.SKYLINE), colors)
