"""Turn props and agents into polygons for the renderer.

A ``Shapes`` collects two kinds of polygon, both in road coordinates so that one vectorised
projection per frame serves all of them:
- ``quad``: a planar polygon given by its 3-D vertices (faces of road-aligned boxes);
- ``board``: a camera-facing cut-out (people, tree crowns, sign panels) given by an anchor
  point and a 2-D outline in metres (x right, y up) around it.
Each polygon carries its trainId (``None``: image only, e.g. windows and lane paint), its RGB
colour, and an (object depth, draw layer) key so that the painter's algorithm can sort them.
"""

from functools import lru_cache

import numpy as np

ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEG, TERRAIN, SKY = range(11)
PERSON, RIDER, CAR, TRUCK, BUS, BICYCLE = 11, 12, 13, 14, 15, 18

SKIN = np.array((190, 150, 120), np.float32)
DARK = np.array((28, 30, 34), np.float32)
GLASS = np.array((45, 55, 66), np.float32)
TRUNK = np.array((80, 62, 45), np.float32)


def _ngon(n: int, rx: float, ry: float, cy: float = 0.0, wobble=None) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 1.0 if wobble is None else wobble
    return np.stack([rx * r * np.cos(a), cy + ry * r * np.sin(a)], axis=1)


@lru_cache(maxsize=4096)
def _crown(style: int) -> np.ndarray:
    """Tree crown outline for ``style`` = radius in decimetres (the wobble is fixed per style)."""
    r = style / 10.0
    return _ngon(10, r, r * 0.9, wobble=1 + 0.18 * np.sin(np.arange(10) * 2.3 + style))


@lru_cache(maxsize=4096)
def _cached_rect(x0, x1, y0, y1) -> np.ndarray:
    return _rect(x0, x1, y0, y1)


def _rect(x0, x1, y0, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


SIGN_OUTLINES = (_ngon(12, 0.33, 0.33), np.array([[-0.4, -0.3], [0.4, -0.3], [0.0, 0.4]]),
                 _rect(-0.3, 0.3, -0.3, 0.3), _rect(-0.45, 0.45, -0.28, 0.28))
HEAD = _ngon(8, 0.11, 0.13)
LAMP = _ngon(6, 0.09, 0.09)
LIGHT_BOX = _rect(-0.17, 0.17, -0.48, 0.48)
BIKE_FRAME, BIKE_BAR = _rect(-0.06, 0.06, 0.0, 0.95), _rect(-0.3, 0.3, 0.0, 0.06)


class Shapes:
    def __init__(self, ego_s: float, ego_l: float, ego_h: float, detail: bool):
        self.ego = (ego_s, ego_l, ego_h)
        self.detail = detail          # False: labels only, skip image-only decoration
        self.points = []              # list of (n, 3) arrays in road coordinates
        self.num_points = 0
        self.items = []               # (layer, depth, order, kind, start, n, label, rgb, outline)

    def _add(self, kind, pts, label, rgb, layer, depth, outline=None):
        """``pts``: list of (s, l, h) tuples or an (n, 3) array; colours stay arrays until drawn."""
        n = len(pts)
        self.points.extend(pts.tolist() if isinstance(pts, np.ndarray) else pts)
        self.items.append((layer, depth, len(self.items), kind, self.num_points, n, label, rgb, outline))
        self.num_points += n

    def quad(self, pts, label, rgb, layer, depth):
        if label is None and not self.detail:
            return
        self._add("quad", pts, label, rgb, layer, depth)

    def quads(self, pts, rgb, layer, depth):
        """Several non-overlapping image-only quads (k*4, 3) filled in one call (windows)."""
        if self.detail and len(pts):
            self._add("quads", pts, None, rgb, layer, depth)

    def board(self, s, l, h, outline, label, rgb, layer, depth):
        if label is None and not self.detail:
            return
        self._add("board", [(s, l, h)], label, rgb, layer, depth, outline)

    def box(self, s0, s1, l0, l1, h0, h1, label, rgb, layer, depth):
        """The faces of a road-aligned box that the camera can see (at most three)."""
        es, el, eh = self.ego
        if es < s0:
            self.quad([(s0, l0, h0), (s0, l1, h0), (s0, l1, h1), (s0, l0, h1)], label, rgb, layer, depth)
        elif es > s1:
            self.quad([(s1, l0, h0), (s1, l1, h0), (s1, l1, h1), (s1, l0, h1)], label, rgb * 0.9, layer, depth)
        side_l = l0 if el < l0 else (l1 if el > l1 else None)
        if side_l is not None:
            self.quad([(s0, side_l, h0), (s1, side_l, h0), (s1, side_l, h1), (s0, side_l, h1)],
                      label, rgb * 0.78, layer, depth)
        if eh > h1:
            self.quad([(s0, l0, h1), (s1, l0, h1), (s1, l1, h1), (s0, l1, h1)], label, rgb * 1.12, layer, depth)
        return side_l

    # ---- props -------------------------------------------------------------------------
    def prop(self, p, depth):
        k = p.kind
        if k == "building":
            side_l = self.box(p.s0, p.s1, p.l0, p.l1, p.h0, p.h1, BUILDING, p.rgb, 1, depth)
            if self.detail and side_l is not None and depth < 45:
                self._windows(p, side_l, depth)
        elif k in ("fence", "wall", "hedge"):
            label = {"fence": FENCE, "wall": WALL, "hedge": VEG}[k]
            self.box(p.s0, p.s1, p.l0, p.l1, 0.0, p.h1, label, p.rgb, 2, depth)
            if k == "fence" and self.detail and depth < 40:
                lf = p.l0 if self.ego[1] < p.l0 else p.l1
                s = np.arange(p.s0, p.s1, 2.5)
                one, zero = np.full_like(s, lf), np.zeros_like(s)
                top = np.full_like(s, p.h1)
                pts = np.stack([np.stack([s, one, zero], 1), np.stack([s + 0.12, one, zero], 1),
                                np.stack([s + 0.12, one, top], 1), np.stack([s, one, top], 1)], 1)
                self.quads(pts.reshape(-1, 3), p.rgb * 0.6, 2, depth)
        elif k == "tree":
            r = p.style / 10.0
            lm = 0.5 * (p.l0 + p.l1)
            if depth < 60:                                   # far trunks are sub-pixel: skip them
                self.board(p.s0, lm, 0.0, _cached_rect(-0.15, 0.15, 0, p.h1 - r), VEG, TRUNK, 3, depth)
            self.board(p.s0, lm, p.h1 - r, _crown(p.style), VEG, p.rgb, 3, depth)
        elif k in ("pole", "lamp", "light", "sign"):
            self._pole_prop(p, depth)

    def _windows(self, p, side_l, depth):
        floors = min(int(p.h1 / 3.2), 5)
        cols = min(int((p.s1 - p.s0) / 3.0), 6)
        glass = GLASS * (1.0 + 0.5 * (p.style == 2))
        h0 = 1.0 + 3.2 * np.arange(floors)[:, None]
        s0 = p.s0 + 1.0 + 3.0 * np.arange(cols)[None, :]
        h0, s0 = np.broadcast_arrays(h0, s0)
        h0, s0 = h0.ravel(), s0.ravel()
        ls = np.full_like(s0, side_l)
        pts = np.stack([np.stack([s0, ls, h0], 1), np.stack([s0 + 1.4, ls, h0], 1),
                        np.stack([s0 + 1.4, ls, h0 + 1.6], 1), np.stack([s0, ls, h0 + 1.6], 1)], 1)
        self.quads(pts.reshape(-1, 3), glass, 1, depth)

    def _pole_prop(self, p, depth):
        lm, k = 0.5 * (p.l0 + p.l1), p.kind
        toward_road = -np.sign(lm)
        width = {"pole": 0.16, "lamp": 0.2, "light": 0.18, "sign": 0.07}[k]
        top = p.h1 - (0.3 if k == "sign" else 0.0)
        self.board(p.s0, lm, 0.0, _cached_rect(-width / 2, width / 2, 0.0, top), POLE, p.rgb, 3, depth)
        if k == "lamp":
            arm_end = lm + toward_road * 1.8
            self.quad([(p.s0, lm, p.h1 - 0.12), (p.s0, arm_end, p.h1 - 0.12), (p.s0, arm_end, p.h1),
                       (p.s0, lm, p.h1)], POLE, p.rgb, 3, depth)
            self.board(p.s0, arm_end, p.h1 - 0.1, _rect(-0.25, 0.25, -0.12, 0.05), POLE, p.rgb * 1.3, 3, depth)
        elif k == "sign":
            self.board(p.s0, lm, p.h1, SIGN_OUTLINES[p.style], SIGN,
                       np.array((200, 30, 30) if p.style < 2 else (30, 70, 170), np.float32)
                       if p.style % 2 == 0 else np.array((230, 200, 40), np.float32), 3, depth)
        elif k == "light":
            heads = [(lm, p.h1 - 0.2)]
            if p.style == 2:                                  # overhead mast arm over the lanes
                arm_end = lm + toward_road * 4.0
                self.quad([(p.s0, lm, p.h1 - 0.15), (p.s0, arm_end, p.h1 - 0.15), (p.s0, arm_end, p.h1),
                           (p.s0, lm, p.h1)], POLE, p.rgb, 3, depth)
                heads.append((arm_end, p.h1 - 0.6))
            for l_head, h_head in heads:
                self.board(p.s0, l_head, h_head, LIGHT_BOX, LIGHT, DARK, 3, depth)
                if self.detail and depth < 35:
                    lit = (0, 1, 2)[p.style % 3]
                    for i, colour in enumerate(((230, 40, 30), (240, 180, 30), (40, 220, 90))):
                        rgb = np.array(colour, np.float32) * (1.0 if i == lit else 0.25)
                        self.board(p.s0, l_head, h_head + 0.3 - 0.3 * i, LAMP, None, rgb, 3, depth)

    # ---- agents ------------------------------------------------------------------------
    def agent(self, kind, s, l, length, width, height, rgb, rgb2, walk_m, depth):
        if kind in ("car", "truck", "bus"):
            self._vehicle(kind, s, l, length, width, height, rgb, depth)
        elif kind == "person":
            self._walker(s, l, height, rgb, rgb2, walk_m, PERSON, depth)
        else:
            self.board(s, l, 0.0, BIKE_FRAME, BICYCLE, DARK, 3, depth)
            self.board(s, l, 0.95, BIKE_BAR, BICYCLE, DARK, 3, depth)
            self._walker(s, l, height, rgb, rgb2, walk_m, RIDER, depth, base_h=0.55)

    def _vehicle(self, kind, s, l, length, width, height, rgb, depth):
        s0, s1, l0, l1 = s - length / 2, s + length / 2, l - width / 2, l + width / 2
        label = {"car": CAR, "truck": TRUCK, "bus": BUS}[kind]
        if self.detail:                                        # contact shadow on the ground
            self.quad([(s0 - 0.2, l0 - 0.15, 0.01), (s1 + 0.2, l0 - 0.15, 0.01), (s1 + 0.2, l1 + 0.15, 0.01),
                       (s0 - 0.2, l1 + 0.15, 0.01)], None, DARK, 3, depth + 0.01)
        if kind == "car" and depth > 60:
            self.box(s0, s1, l0, l1, 0.22, height * 0.8, label, rgb, 3, depth)
        elif kind == "car":
            self.box(s0, s1, l0, l1, 0.22, height * 0.6, label, rgb, 3, depth)
            c0, c1 = s0 + length * 0.25, s1 - length * 0.2
            self.box(c0, c1, l0 + 0.1, l1 - 0.1, height * 0.6, height, label, rgb * 0.95, 3, depth)
            if self.detail and self.ego[0] < c0:
                self.quad([(c0, l0 + 0.2, height * 0.64), (c0, l1 - 0.2, height * 0.64),
                           (c0, l1 - 0.2, height * 0.95), (c0, l0 + 0.2, height * 0.95)], None, GLASS, 3, depth)
            if self.detail and self.ego[0] > c1:
                self.quad([(c1, l0 + 0.2, height * 0.64), (c1, l1 - 0.2, height * 0.64),
                           (c1, l1 - 0.2, height * 0.95), (c1, l0 + 0.2, height * 0.95)], None, GLASS, 3, depth)
        else:
            self.box(s0, s1, l0, l1, 0.35, height, label, rgb, 3, depth)
            side = l0 if self.ego[1] < l0 else l1
            if self.detail:
                h0, h1 = height * (0.55 if kind == "bus" else 0.62), height * (0.85 if kind == "bus" else 0.9)
                self.quad([(s0 + 0.5, side, h0), (s1 - 0.5, side, h0), (s1 - 0.5, side, h1), (s0 + 0.5, side, h1)],
                          None, GLASS, 3, depth)

    def _walker(self, s, l, height, rgb, rgb2, walk_m, label, depth, base_h=0.0):
        if depth > 40:                                       # far: one silhouette is enough
            self.board(s, l, base_h, _cached_rect(-0.2, 0.2, 0.0, round(height, 2)), label, rgb, 3, depth)
            return
        swing = 0.16 * np.sin(walk_m * np.pi / 0.7)
        leg_h = 0.47 * height
        for sign in (-1, 1):
            x = 0.08 * sign
            self.board(s, l, base_h, np.array([[x - 0.07, 0], [x + 0.07, 0], [x + 0.06 + sign * swing * 0.3, leg_h],
                                               [x - 0.06, leg_h]]), label, rgb2, 3, depth)
        self.board(s, l, base_h + leg_h, _cached_rect(-0.2, 0.2, 0.0, round(0.33 * height, 2)), label, rgb, 3, depth)
        self.board(s, l, base_h + height * 0.88, HEAD, label, SKIN, 3, depth)
