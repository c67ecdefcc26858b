"""Ego motion and the pinhole camera of the world.

The ego drives in the right lane. Its speed wobbles, it weaves a little in the lane, and road
bumps (a function of *position*, so they come faster when driving faster) pitch and roll the
camera: the whole image flows, as on a real car. Camera axes: X right, Y down, Z forward.
"""

from dataclasses import dataclass

import numpy as np

from .layout import EGO_SPEED_MPS, LANE_WIDTH_M, Road

HFOV_DEG = 64.0
CAMERA_HEIGHT_M = 1.45
BASE_PITCH_RAD = 0.04        # slightly nose-down: horizon at ~44 % of the height
NEAR_M = 0.3
BUMP_SCALE = 1.0             # road-bump pitch/roll, calibrated with the stale-label curve


@dataclass
class EgoPose:
    s_m: float
    l_m: float
    height_m: float
    yaw_rad: float            # world heading of the optical axis
    pitch_rad: float          # positive: looking down
    roll_rad: float
    x_m: float = 0.0          # world position, filled from the road
    y_m: float = 0.0


def ego_pose(road: Road, scene_time_s: float, phases: np.ndarray, speed_mps: float = EGO_SPEED_MPS) -> EgoPose:
    """Pose at ``scene_time_s``; ``phases`` (6,) are the sequence's random phases."""
    t = scene_time_s
    s = speed_mps * t + 1.5 * np.sin(0.35 * t + phases[0])
    lat = -LANE_WIDTH_M / 2 + 0.25 * np.sin(0.45 * t + phases[1])
    # Bumps as a function of position: 4.3 m and 9.1 m undulations, 2.1 m road texture.
    pitch = BASE_PITCH_RAD + BUMP_SCALE * (0.0025 * np.sin(2 * np.pi * s / 4.3 + phases[2])
                                           + 0.002 * np.sin(2 * np.pi * s / 9.1 + phases[3])
                                           + 0.0007 * np.sin(2 * np.pi * s / 2.1))
    roll = BUMP_SCALE * (0.002 * np.sin(2 * np.pi * s / 5.7 + phases[4]) + 0.001 * np.sin(2 * np.pi * s / 13.0))
    yaw = road.heading_at(s) + 0.02 * np.sin(0.6 * t + phases[5])
    x, y = road.to_world(np.array([s]), np.array([lat]))
    return EgoPose(float(s), float(lat), CAMERA_HEIGHT_M + 0.02 * np.sin(2 * np.pi * s / 3.3),
                   float(yaw), float(pitch), float(roll), float(x[0]), float(y[0]))


class Camera:
    """Pinhole projection for one image size and one pose."""

    def __init__(self, height_px: int, width_px: int, pose: EgoPose):
        self.h, self.w = height_px, width_px
        self.f = (width_px / 2) / np.tan(np.deg2rad(HFOV_DEG) / 2)
        self.cx, self.cy = width_px / 2, height_px / 2
        self.pose = pose
        self._cp, self._sp = np.cos(pose.pitch_rad), np.sin(pose.pitch_rad)
        self._cr, self._sr = np.cos(pose.roll_rad), np.sin(pose.roll_rad)
        self._cy_, self._sy_ = np.cos(pose.yaw_rad), np.sin(pose.yaw_rad)

    def world_to_camera(self, x_m, y_m, h_m):
        """World points (arrays) -> camera X, Y, Z (metres)."""
        p = self.pose
        dx, dy = x_m - p.x_m, y_m - p.y_m
        fwd = dx * self._cy_ + dy * self._sy_
        left = -dx * self._sy_ + dy * self._cy_
        return self.rotate(-left, p.height_m - h_m, fwd)

    def rotate(self, x, y, z):
        """Apply pitch then roll to un-tilted camera coordinates."""
        y1 = y * self._cp - z * self._sp
        z1 = y * self._sp + z * self._cp
        return x * self._cr - y1 * self._sr, x * self._sr + y1 * self._cr, z1

    def direction_to_camera(self, azimuth_rad, elevation_rad):
        """Points at infinity (world azimuth, elevation) -> camera X, Y, Z (unit length)."""
        rel = azimuth_rad - self.pose.yaw_rad
        ce = np.cos(elevation_rad)
        return self.rotate(-np.sin(rel) * ce, -np.sin(elevation_rad), np.cos(rel) * ce)

    def to_pixels(self, x, y, z):
        """Camera coordinates with z > 0 -> pixel u, v (float)."""
        return self.cx + self.f * x / z, self.cy + self.f * y / z


def clip_near(points: np.ndarray, near: float = NEAR_M) -> np.ndarray:
    """Clip a convex polygon (n, 3) in camera coordinates to z >= near (Sutherland-Hodgman)."""
    out = []
    n = len(points)
    for i in range(n):
        a, b = points[i], points[(i + 1) % n]
        a_in, b_in = a[2] >= near, b[2] >= near
        if a_in:
            out.append(a)
        if a_in != b_in:
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out) if out else np.zeros((0, 3))
