"""What turns flat polygons into a camera image: texture, light, glare, sensor noise, blur.

Textures are screen-space noise fields whose amplitude depends on the class (rough vegetation
and terrain, smooth sky with clouds, fine asphalt grain); the field shifts with the ego's travel.
That is cheaper than texture mapping and is enough to make colour alone ambiguous. Noise fields
depend only on the image size, so they are built once per size and shared by all sequences.
"""

from functools import lru_cache

import cv2
import numpy as np

from .camera import Camera

# Texture amplitude (grey levels) per trainId: fine grain and coarse blotches.
_FINE = np.zeros(256, np.float32)
_COARSE = np.zeros(256, np.float32)
_FINE[:19] = (9, 8, 7, 8, 10, 4, 2, 3, 20, 16, 1.5, 6, 6, 4, 5, 5, 5, 5, 4)
_COARSE[:19] = (7, 9, 12, 9, 6, 3, 1, 1, 24, 20, 12, 3, 3, 3, 4, 4, 4, 4, 2)
SENSOR_NOISE_STD = 3.0
_NOISE_BANK = 4


@lru_cache(maxsize=8)
def _noise_fields(height_px: int, width_px: int):
    """(fine (2H, 2W), coarse (2H, 2W), sensor bank (4, H, W, 3)) float32, fixed per size."""
    rng = np.random.default_rng([height_px, width_px, 99])
    fine = cv2.GaussianBlur(rng.standard_normal((2 * height_px, 2 * width_px)).astype(np.float32), (0, 0), 0.8)
    fine /= fine.std() + 1e-6
    small = rng.standard_normal((max(2 * height_px // 12, 2), max(2 * width_px // 12, 2))).astype(np.float32)
    coarse = cv2.resize(small, (2 * width_px, 2 * height_px), interpolation=cv2.INTER_CUBIC)
    coarse /= coarse.std() + 1e-6
    sensor = rng.normal(0, SENSOR_NOISE_STD, size=(_NOISE_BANK, height_px, width_px, 3)).astype(np.float32)
    return fine, coarse, sensor


@lru_cache(maxsize=8)
def _glare_blob(height_px: int, width_px: int) -> np.ndarray:
    yy, xx = np.mgrid[-height_px:height_px, -width_px:width_px].astype(np.float32)
    r2 = (xx ** 2 + yy ** 2) / (0.25 * width_px) ** 2
    return (np.exp(-r2) + 0.4 * np.exp(-r2 / 12)).astype(np.float32)


class Look:
    """The appearance of one sequence (lighting from the layout's colours)."""

    def __init__(self, seed: int, colors: dict, blur_px_at_512: float):
        self.seed, self.colors = seed, colors
        self.blur_px_at_512 = blur_px_at_512
        self._backgrounds = {}

    def background(self, height_px: int, width_px: int) -> np.ndarray:
        """Sky gradient (H, W, 3) uint8 RGB: top colour to horizon colour."""
        key = (height_px, width_px)
        if key not in self._backgrounds:
            t = np.clip(np.linspace(0, 1.15, height_px), 0, 1)[:, None, None] ** 0.8
            sky = (self.colors["sky_top"] * (1 - t) + self.colors["sky_horizon"] * t) * self.light
            sky = np.clip(sky, 0, 255)
            self._backgrounds[key] = np.ascontiguousarray(np.broadcast_to(sky, (height_px, width_px, 3)), np.uint8)
        return self._backgrounds[key]

    def finish(self, image: np.ndarray, label: np.ndarray, frame_index: int, cam: Camera) -> np.ndarray:
        """Flat (H, W, 3) uint8 (already lit: colours carry ``light``) + label -> camera image.

        Texture, glare and blur are optical; sensor noise comes last. Uses OpenCV element-wise
        ops, which are several times faster than numpy broadcasting over the RGB axis.
        """
        h, w = label.shape
        fine, coarse, sensor = _noise_fields(h, w)
        oy = int(cam.pose.s_m * 4.0 * h / 256) % h
        ox = (self.seed * 131) % w
        tex = cv2.add(cv2.multiply(cv2.LUT(label, _FINE), fine[oy:oy + h, ox:ox + w]),
                      cv2.multiply(cv2.LUT(label, _COARSE), coarse[oy // 4:oy // 4 + h, ox:ox + w]))
        out = cv2.add(image, cv2.merge([tex, tex, tex]), dtype=cv2.CV_32F)
        glare = self.colors["glare"]
        if glare > 0:
            x, y, z = cam.direction_to_camera(np.array([self.colors["sun_azimuth_rad"]]), np.array([0.12]))
            if z[0] > 0.2:
                u, v = cam.to_pixels(x, y, z)
                cu, cv_ = int(np.clip(u[0], 0, w - 1)), int(np.clip(v[0], 0, h - 1))
                blob = _glare_blob(h, w)[h - cv_:2 * h - cv_, w - cu:2 * w - cu] * np.float32(glare * 120.0)
                out = cv2.add(out, cv2.merge([blob, blob * np.float32(0.95), blob * np.float32(0.8)]))
        k = int(round(self.blur_px_at_512 * w / 512.0))
        if k >= 2:
            out = cv2.blur(out, (k, k))
        out = cv2.add(out, sensor[(frame_index * 7 + self.seed) % _NOISE_BANK])
        return np.clip(out, 0, 255, out=out).astype(np.uint8)

    @property
    def light(self) -> np.ndarray:
        """Per-channel gain of this sequence's lighting, applied to every colour when drawn."""
        return (self.colors["gain"] * self.colors["tint"]).astype(np.float32)
