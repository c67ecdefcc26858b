"""Uplink decoding off the executor: submit never waits for a decode, each robot keeps its own
newest-only slot, refusals arrive with their kind, and a robot's flood costs another nothing."""

import struct
import threading
import time

import cv2
import numpy as np

from dedelayed_models.data.uplink import encode_uplink
from dedelayed_models.data.webp_header import NOT_WEBP, OVERSIZE
from dedelayed_remote.uplink_decoder import UplinkDecoder, UplinkPayload


def payload(data, stamp_s):
    return UplinkPayload(data=data, stamp=stamp_s * 1_000_000_000, frame_id="cam", receive_time_ns=0,
                         arrival_monotonic_ns=0)


class Sink:
    def __init__(self):
        self.decoded, self.refused, self.errors = [], [], []
        self.changed = threading.Condition()

    def on_decoded(self, robot, p, pixels, decode_ms, decoded_hw):
        with self.changed:
            self.decoded.append((robot, p.stamp // 1_000_000_000, pixels.shape, decoded_hw))
            self.changed.notify_all()

    def on_refused(self, robot, p, refusal):
        with self.changed:
            self.refused.append((robot, p.stamp // 1_000_000_000, refusal.kind))
            self.changed.notify_all()

    def on_error(self, robot, exc):
        self.errors.append((robot, exc))

    def wait(self, predicate, timeout_s=20.0):
        with self.changed:
            return self.changed.wait_for(predicate, timeout_s)


def test_floods_are_newest_only_and_do_not_hold_other_robots():
    sink = Sink()
    decoder = UplinkDecoder(["/a", "/b"], (32, 64), 2048 * 2048, sink.on_decoded,
                            sink.on_refused, sink.on_error)
    try:
        rng = np.random.default_rng(0)
        heavy = encode_uplink(rng.integers(0, 256, (2048, 2048, 3), dtype=np.uint8))  # legal, slow
        small = encode_uplink(np.full((32, 64, 3), 90, np.uint8))
        start = time.perf_counter()
        for i in range(20):
            decoder.submit("/a", payload(heavy, i))
        submit_s = time.perf_counter() - start
        decoder.submit("/b", payload(small, 100))
        assert sink.wait(lambda: any(r == "/b" for r, *_ in sink.decoded), 10.0)
        assert sink.wait(lambda: any(r == "/a" and s == 19 for r, s, *_ in sink.decoded), 60.0)
        a_stamps = [s for r, s, *_ in sink.decoded if r == "/a"]
        assert submit_s < 0.1, f"submit waited for decoding: {submit_s:.3f} s for 20 payloads"
        assert len(a_stamps) < 20 and a_stamps == sorted(a_stamps), a_stamps   # newest only, in order
        assert decoder.counters("/a")["decode_superseded"] == 20 - len(a_stamps)
        assert ("/a", 19, (32, 64, 3), (2048, 2048)) in sink.decoded   # resized to the model's
        # Refused with a kind, without decoding, and decoding goes on.
        bomb = bytearray(small)
        struct.pack_into("<HH", bomb, 26, 16383, 16383)
        decoder.submit("/b", payload(bytes(bomb), 101))
        assert sink.wait(lambda: len(sink.refused) == 1)
        decoder.submit("/b", payload(cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes(), 102))
        assert sink.wait(lambda: len(sink.refused) == 2)
        assert sink.refused == [("/b", 101, OVERSIZE), ("/b", 102, NOT_WEBP)]
        decoder.submit("/b", payload(small, 103))
        assert sink.wait(lambda: any(s == 103 for _, s, *_ in sink.decoded))
        assert sink.errors == []
    finally:
        decoder.stop()
