"""Label encodings: how a dataset's label PNGs number their classes, and the map to the project's.

Every loader converts at the edge: it reads the file's native ids and returns Cityscapes trainIds
(0-18, ``IGNORE_ID`` 255 = void; ``classes.py``). Which encoding a file uses is said by the file
name (Cityscapes ``*_labelIds.png`` vs ``*_labelTrainIds.png``), a ``dataset.yaml`` beside the
data (``label_encoding: ...``) or the ``data.label_encoding`` config key, never guessed from the
values: CamVid ids 0-11 are also valid trainIds.

| encoding | native ids | -> trainId | classes the dataset labels |
|---|---|---|---|
| ``trainid`` | 0-18, 255 void | unchanged | all 19 (or ``classes:`` in dataset.yaml) |
| ``camvid11`` | SegNet CamVid 0-11 | 0 Sky->10 sky, 1 Building->2 building, 2 Pole->5 pole, 3 Road->0 road, 4 Pavement->1 sidewalk, 5 Tree->8 vegetation, 6 SignSymbol->7 traffic sign, 7 Fence->4 fence, 8 Car->13 car, 9 Pedestrian->11 person, 10 Bicyclist->18 bicycle, 11 void->255 | those 11 |
| ``cityscapes_labelid`` | Cityscapes labelIds 0-33 | the official table (``LABELID_TO_TRAINID``); parking, rail track, guard rail, bridge, tunnel, pole group, caravan, trailer -> 255 | all 19 |

CamVid does not separate rider from bicycle: its "Bicyclist" becomes bicycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from ..classes import CLASS_NAMES, IGNORE_ID, NUM_CLASSES

_I = IGNORE_ID

# SegNet's 11-class CamVid (+ 11 void) -> trainId.
CAMVID_TO_TRAINID = {0: 10, 1: 2, 2: 5, 3: 0, 4: 1, 5: 8, 6: 7, 7: 4, 8: 13, 9: 11, 10: 18, 11: _I}

# Official Cityscapes labelId (0-33) -> trainId; everything not evaluated is void.
LABELID_TO_TRAINID = (
    _I, _I, _I, _I, _I, _I, _I,          # 0 unlabeled .. 6 ground
    0, 1, _I, _I,                        # 7 road, 8 sidewalk, 9 parking, 10 rail track
    2, 3, 4, _I, _I, _I,                 # 11 building, 12 wall, 13 fence, 14 guard rail, 15 bridge, 16 tunnel
    5, _I, 6, 7, 8, 9, 10,               # 17 pole, 18 polegroup, 19 light, 20 sign, 21 vegetation, 22 terrain, 23 sky
    11, 12, 13, 14, 15, _I, _I, 16, 17, 18,  # 24 person .. 28 bus, 29 caravan, 30 trailer, 31 train, 32 moto, 33 bicycle
)


@dataclass(frozen=True)
class LabelEncoding:
    """One native label numbering: ``lut`` maps every uint8 value to a trainId; ``valid`` marks
    the values a file may hold; ``class_ids`` are the trainIds it can label (sorted)."""

    name: str
    description: str
    lut: np.ndarray            # (256,) uint8 native id -> trainId
    valid: np.ndarray          # (256,) bool, values a label file may hold
    class_ids: Tuple[int, ...]

    def to_trainids(self, native: np.ndarray, path="label") -> np.ndarray:
        """(H, W) uint8 native ids -> (H, W) uint8 trainIds; values outside the encoding are an
        error naming the file, the values and the fix."""
        bad = ~self.valid[native]
        if bad.any():
            values = np.unique(native[bad])[:5].tolist()
            raise ValueError(
                f"{path}: label values {values} are not {self.name} ids ({self.description}); if the "
                f"file uses another numbering, say which with data.label_encoding (one of "
                f"{sorted(LABEL_ENCODINGS)}) or 'label_encoding:' in the dataset's dataset.yaml")
        return self.lut[native]


def _encoding(name: str, description: str, mapping: Dict[int, int], labeled=None) -> LabelEncoding:
    lut = np.full(256, IGNORE_ID, np.uint8)
    valid = np.zeros(256, bool)
    for native, train_id in mapping.items():
        lut[native], valid[native] = train_id, True
    ids = sorted({v for v in mapping.values() if v != IGNORE_ID}) if labeled is None else sorted(labeled)
    return LabelEncoding(name, description, lut, valid, tuple(ids))


LABEL_ENCODINGS: Dict[str, LabelEncoding] = {
    "trainid": _encoding("trainid", f"Cityscapes trainIds 0-{NUM_CLASSES - 1}, {IGNORE_ID} void",
                         {**{i: i for i in range(NUM_CLASSES)}, IGNORE_ID: IGNORE_ID}),
    "camvid11": _encoding("camvid11", "SegNet CamVid 0-10, 11 void", CAMVID_TO_TRAINID),
    "cityscapes_labelid": _encoding("cityscapes_labelid", "Cityscapes labelIds 0-33",
                                    dict(enumerate(LABELID_TO_TRAINID))),
}


def label_encoding(name: str) -> LabelEncoding:
    if name not in LABEL_ENCODINGS:
        raise ValueError(f"label encoding {name!r} unknown; choose one of {sorted(LABEL_ENCODINGS)}")
    return LABEL_ENCODINGS[name]


def class_ids_from_names(names, where: str) -> Tuple[int, ...]:
    """trainIds of class names (``classes.py`` spelling), e.g. a dataset.yaml ``classes:`` list."""
    unknown = [n for n in names if n not in CLASS_NAMES]
    if unknown:
        raise ValueError(f"{where}: unknown class names {unknown}; use names from {list(CLASS_NAMES)}")
    return tuple(sorted(CLASS_NAMES.index(n) for n in names))
