"""The newest-only worker: submit never waits, waiting items are replaced, errors do not end it,
and its thread runs at the lower priority asked for."""

import os
import threading

import pytest

from dedelayed_models.newest_only import NewestOnlyWorker


def test_newest_only_replaces_waiting_items_and_survives_errors():
    release, handled, errors, nice = threading.Event(), [], [], []

    def handle(item):
        if item == "boom":
            raise RuntimeError("bad item")
        nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        release.wait(10)
        handled.append(item)

    worker = NewestOnlyWorker(handle, name="test_worker", on_error=errors.append, nice=5)
    try:
        assert worker.submit(0)
        while not nice:            # item 0 is being handled
            threading.Event().wait(0.01)
        assert worker.submit(1) and not worker.submit(2) and not worker.submit(3)
        release.set()
        for _ in range(500):
            if worker.handled == 2:
                break
            threading.Event().wait(0.01)
        assert handled == [0, 3] and worker.superseded == 2
        assert nice[0] == os.getpriority(os.PRIO_PROCESS, 0) + 5   # this thread only
        worker.submit("boom")
        for _ in range(500):
            if errors:
                break
            threading.Event().wait(0.01)
        worker.submit(4)
        for _ in range(500):
            if 4 in handled:
                break
            threading.Event().wait(0.01)
        assert handled[-1] == 4 and [str(e) for e in errors] == ["bad item"]
    finally:
        worker.stop()
    with pytest.raises(ValueError, match="nice"):
        NewestOnlyWorker(print, name="x", on_error=print, nice=-1)
