"""Group commit: works handed in while another is written are written together next."""

import threading
import time

import pytest

from lrs.usecases.group_commit import GroupCommit


class Writer:
    """A ``write_group`` that records its groups; the first one it writes waits for ``release``."""

    def __init__(self, outcome=lambda work: f"wrote {work}"):
        self.groups = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.outcome = outcome

    def __call__(self, group):
        self.groups.append(list(group))
        if len(self.groups) == 1:
            self.entered.set()
            assert self.release.wait(10)
        return [self.outcome(work) for work in group]


def hand_in(commit, work, writer, answers):
    """A thread that hands ``work`` in and keeps its answer (a result or the error raised)."""

    def run():
        try:
            answers[work] = commit.write(work, writer)
        except Exception as error:
            answers[work] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waiting(commit, count):
    """Wait until ``count`` works wait behind the write under way."""
    deadline = time.monotonic() + 10
    while len(commit._waiting) < count:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_work_alone_is_written_at_once_alone():
    commit = GroupCommit()
    groups = []

    def write_group(group):
        groups.append(list(group))
        return [f"wrote {work}" for work in group]

    assert commit.write("a", write_group) == "wrote a"
    assert commit.write("b", write_group) == "wrote b"
    assert groups == [["a"], ["b"]]


def handed_in_during_a_write(commit, writer, works):
    """Hand the first work in, then, while it is written, the others one by one; every answer."""
    answers = {}
    threads = [hand_in(commit, works[0], writer, answers)]
    assert writer.entered.wait(10)
    for count, work in enumerate(works[1:], 1):
        threads.append(hand_in(commit, work, writer, answers))
        waiting(commit, count)
    writer.release.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    return answers


def test_works_handed_in_during_a_write_are_written_together_next_in_order():
    commit, writer = GroupCommit(), Writer()
    answers = handed_in_during_a_write(commit, writer, ["a", "b", "c", "d"])
    assert writer.groups == [["a"], ["b", "c", "d"]]
    assert answers == {work: f"wrote {work}" for work in "abcd"}


def test_each_thread_gets_its_own_outcome_and_raises_its_own_error():
    def outcome(work):
        return ValueError(f"{work} is bad") if work == "c" else f"wrote {work}"

    commit, writer = GroupCommit(), Writer(outcome)
    answers = handed_in_during_a_write(commit, writer, ["a", "b", "c", "d"])
    assert isinstance(answers["c"], ValueError) and str(answers["c"]) == "c is bad"
    assert {work: answers[work] for work in "abd"} == {work: f"wrote {work}" for work in "abd"}


def test_a_group_is_bounded_by_the_works_sizes():
    commit, writer = GroupCommit(most=5), Writer()
    answers = handed_in_during_a_write(commit, writer, ["a", "bb", "ccc", "dddddddd", "e"])
    # Up to 5 letters a group; one larger than that is written alone.
    assert writer.groups == [["a"], ["bb", "ccc"], ["dddddddd"], ["e"]]
    assert len(answers) == 5


class Failing(Writer):
    """A ``Writer`` whose second group fails: it raises, or miscounts its outcomes."""

    def __init__(self, failure):
        super().__init__()
        self.failure = failure

    def __call__(self, group):
        if len(self.groups) != 1:
            return super().__call__(group)
        self.groups.append(list(group))
        if self.failure == "raises":
            raise OSError("disk gone")
        return ["only one"]


@pytest.mark.parametrize("failure", ["raises", "miscounts"])
def test_when_a_group_cannot_be_written_every_thread_is_told_and_none_hangs(failure):
    commit, writer = GroupCommit(), Failing(failure)
    answers = handed_in_during_a_write(commit, writer, ["a", "b", "c"])
    assert writer.groups == [["a"], ["b", "c"]]
    expected = OSError if failure == "raises" else RuntimeError
    assert isinstance(answers["b"], expected) and isinstance(answers["c"], expected)
    # The next work is written as usual.
    assert commit.write("d", writer) == "wrote d"
