"""An erasure that no concurrent write can outrun: statements posted during it keep no trace."""

import threading
import time
import uuid

import pytest

from lrs.credentials.base import Role
from lrs.testing import COURSE
from lrs.usecases.erasure import erase_learner
from tests.erasure.test_erase import (
    EMAIL,
    FULL_NAME,
    HOMEPAGE,
    PERSONAL,
    USERNAME,
    app_on,
    dump,
)
from tests.support import ADMIN, BACKENDS, basic, storage_for

VERSION = {"X-Experience-API-Version": "1.0.3"}
BY_MAIL = {"mbox": f"mailto:{EMAIL}", "name": FULL_NAME}
ACCOUNT = {"account": {"homePage": HOMEPAGE, "name": USERNAME}}


def statement(actor, n):
    return {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"{COURSE.replace('course-v1:', 'block-v1:')}+type@html+block@t{n % 5}"},
        "context": {"instructor": {"mbox": "mailto:teacher@example.org"}},
    }


class Poster(threading.Thread):
    """Posts statements in a loop, recording when each answer came and what it was."""

    def __init__(self, app, headers, make_batch):
        super().__init__(daemon=True)
        self.client = app.test_client()
        self.headers = {**headers, **VERSION}
        self.make_batch = make_batch
        self.stop = threading.Event()
        self.answers = []  # (monotonic time, status)

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            answer = self.client.post(
                "/xAPI/statements", json=self.make_batch(n), headers=self.headers
            )
            self.answers.append((time.monotonic(), answer.status_code))
            if answer.status_code != 200:
                time.sleep(0.01)


def sqlite_files(storage):
    """The bytes of the SQLite file and of its write-ahead log, as text."""
    database = getattr(storage.statements, "_database", None)
    if database is None:
        return ""
    path = database.path
    found = []
    for name in (path, path.with_name(path.name + "-wal")):
        if name.exists():
            found.append(name.read_bytes().decode("latin-1"))
    return "\n".join(found)


@pytest.mark.parametrize("backend", BACKENDS)
def test_statements_posted_during_an_erasure_keep_no_trace_of_the_learner(backend, tmp_path):
    app = app_on(storage_for(backend, tmp_path))
    storage = app.extensions["lrs"]
    accounts = app.extensions["lrs-accounts"]
    learner, learner_secret = storage.credentials.create(Role.learner, username=USERNAME)
    service, service_secret = storage.credentials.create(Role.service, name="lms")
    posters = [
        # The learner's own tablet, until its credential is revoked.
        Poster(app, basic(learner.key, learner_secret), lambda n: statement(ACCOUNT, n)),
        # The LMS, about the learner by e-mail and account, beside another learner.
        Poster(
            app,
            basic(service.key, service_secret),
            lambda n: [
                statement(BY_MAIL, n),
                statement(ACCOUNT, n),
                statement({"mbox": "mailto:bob@example.org"}, n),
            ],
        ),
    ]
    for poster in posters:
        poster.start()
    while min(len(poster.answers) for poster in posters) < 3:
        time.sleep(0.01)

    def slowly(step):
        time.sleep(0.05)  # every step leaves room for posts to land in between

    started = time.monotonic()
    erasure = erase_learner(
        storage, accounts, USERNAME, reason="request", credential="cli", on_step=slowly
    )
    finished = time.monotonic()
    time.sleep(0.2)  # and after it too
    for poster in posters:
        poster.stop.set()
    for poster in posters:
        poster.join()

    during = [
        status
        for poster in posters
        for at, status in poster.answers
        if started <= at <= finished and status == 200
    ]
    assert len(during) >= 3, "the posts did not overlap the erasure"
    service_after = [status for at, status in posters[1].answers if at > finished]
    assert service_after and set(service_after) == {200}
    learner_after = [status for at, status in posters[0].answers if at > finished]
    assert set(learner_after) <= {401, 429}  # revoked (then throttled)

    storage.empty_log()
    everything = dump(storage) + sqlite_files(storage)
    for personal in PERSONAL:
        assert personal not in everything, personal
    # What was posted about the learner is the pseudonym's, and bob keeps his own.
    pseudonym = accounts.key(erasure.pseudonym)
    assert storage.progress.summaries(learner=pseudonym)
    assert storage.progress.summaries(learner="mbox:mailto:bob@example.org")
    assert storage.progress.summaries(learner=f"mbox:mailto:{EMAIL}") == []


@pytest.mark.parametrize("backend", ["memory", "mongomock"])
def test_a_batch_saved_while_an_erasure_runs_whole_rewrites_itself(backend, tmp_path):
    """Without one transaction, an erasure can run between a batch's check and its save."""
    app = app_on(storage_for(backend, tmp_path))
    storage = app.extensions["lrs"]
    accounts = app.extensions["lrs-accounts"]
    save = storage.statements.save
    ran = []

    def erasure_first(records):
        if not ran:
            ran.append(erase_learner(storage, accounts, USERNAME, reason="r", credential="cli"))
        return save(records)

    storage.statements.save = erasure_first
    sent = statement(BY_MAIL, 0)
    answer = app.test_client().post(
        "/xAPI/statements", json=sent, headers={**basic(*ADMIN), **VERSION}
    )
    assert answer.status_code == 200 and ran
    stored = storage.statements.get(sent["id"])
    assert EMAIL not in stored.text and FULL_NAME not in stored.text
    assert storage.progress.summaries(learner=f"mbox:mailto:{EMAIL}") == []
    assert storage.progress.summaries(learner=accounts.key(ran[0].pseudonym))
