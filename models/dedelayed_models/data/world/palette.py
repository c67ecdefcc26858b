"""Image colours of the world (RGB, 0-255): what things look like, not what they are.

These are deliberately *not* the label palette: colours overlap between classes (grey cars on
grey roads, green cars near hedges, beige walls and sidewalks), so a model has to use shape and
context. Each instance jitters its colour; each sequence draws a lighting condition.
"""

import numpy as np

ROAD = (88, 86, 84)
SIDEWALK = (150, 144, 136)
TERRAIN = (96, 118, 62)
BUILDING = (150, 120, 100)
WALL = (165, 155, 135)
FENCE = (120, 100, 80)
POLE = (110, 110, 112)
VEGETATION = (60, 100, 45)
SKYLINE = (120, 130, 135)
LIGHT_BOX = (35, 35, 30)
SIGN_FACES = ((200, 30, 30), (30, 70, 170), (230, 200, 40), (235, 235, 235))
CAR_PAINTS = ((230, 230, 230), (25, 25, 28), (120, 122, 126), (170, 172, 176), (150, 20, 20),
              (30, 50, 120), (40, 90, 50), (200, 180, 140), (90, 86, 84))
CLOTHES = ((30, 30, 40), (160, 40, 40), (40, 60, 140), (200, 200, 190), (90, 110, 60),
           (120, 90, 60), (220, 150, 40))
BUILDING_TONES = ((150, 120, 100), (190, 180, 160), (120, 120, 125), (170, 90, 70), (220, 215, 200))


def jitter(rng, rgb, amount: float = 0.18) -> np.ndarray:
    """``rgb`` with a random brightness and per-channel change of about ``amount``."""
    rgb = np.asarray(rgb, dtype=np.float32)
    gain = rng.uniform(1 - amount, 1 + amount)
    tint = rng.uniform(1 - amount / 2, 1 + amount / 2, size=3)
    return np.clip(rgb * gain * tint, 0, 255).astype(np.float32)


def agent_color(rng, kind: str) -> np.ndarray:
    if kind in ("car", "truck", "bus"):
        return jitter(rng, CAR_PAINTS[rng.integers(len(CAR_PAINTS))], 0.1)
    return jitter(rng, CLOTHES[rng.integers(len(CLOTHES))])


def sequence_colors(rng) -> dict:
    """Lighting and ground tones of one sequence: time of day, sun, haze."""
    time_of_day = rng.choice(["noon", "afternoon", "dusk", "overcast"], p=[0.35, 0.3, 0.15, 0.2])
    gain, tint, sky_top, sky_horizon = {
        "noon": (1.05, (1.0, 1.0, 1.0), (70, 130, 200), (185, 210, 230)),
        "afternoon": (1.0, (1.05, 1.0, 0.92), (90, 140, 200), (220, 210, 190)),
        "dusk": (0.6, (1.15, 0.9, 0.75), (60, 70, 120), (240, 150, 90)),
        "overcast": (0.85, (0.97, 1.0, 1.03), (150, 155, 160), (200, 202, 205)),
    }[time_of_day]
    building = BUILDING_TONES[rng.integers(len(BUILDING_TONES))]
    return {
        "time_of_day": str(time_of_day),
        "gain": float(gain * rng.uniform(0.9, 1.1)),
        "tint": np.array(tint, dtype=np.float32) * rng.uniform(0.95, 1.05, size=3).astype(np.float32),
        "sky_top": jitter(rng, sky_top, 0.08), "sky_horizon": jitter(rng, sky_horizon, 0.08),
        "road": jitter(rng, ROAD, 0.15), "sidewalk": jitter(rng, SIDEWALK, 0.15),
        "terrain": jitter(rng, TERRAIN, 0.2), "building_base": np.array(building, np.float32),
        "sun_azimuth_rad": float(rng.uniform(-np.pi, np.pi)),
        "shadow_strength": 0.0 if time_of_day == "overcast" else float(rng.uniform(0.3, 0.5)),
        "glare": float(rng.uniform(0.3, 0.8)) if time_of_day in ("afternoon", "dusk") else 0.0,
        "lane_paint": jitter(rng, (215, 215, 205), 0.08),
    }
