"""The server process's own settings: the garbage collector, and waitress's queue warnings."""

import gc
import logging

import pytest

from lrs.serve import GC_YOUNG_THRESHOLD, QueueWarnings, tune_garbage_collector


@pytest.fixture
def restored_collector():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_collector_is_tuned_for_a_server(restored_collector):
    gc.unfreeze()
    older = gc.get_threshold()[1:]
    kept = [object() for _ in range(3)]  # something tracked to freeze
    holder = {"kept": kept}
    tune_garbage_collector()
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *older)
    # The loaded application's objects are left out of every collection.
    assert gc.get_freeze_count() > 0
    assert holder["kept"] is kept


def test_one_queue_warning_per_interval_with_a_count(monkeypatch, caplog):
    now = [1000.0]
    monkeypatch.setattr("lrs.serve.time.monotonic", lambda: now[0])
    logger = logging.getLogger("waitress.queue")
    once = QueueWarnings(logger, 60)
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for _ in range(3):
            once.warning("Task queue depth is %d", 3)
        now[0] += 61
        once.warning("Task queue depth is %d", 3)
        once.warning("Task queue depth is %d", 3)
    assert [record.getMessage() for record in caplog.records] == [
        "Task queue depth is 3",
        "Task queue depth is 3 (2 more such warnings since the last one)",
    ]
