"""The dashboard's pages with Flask's test client: who sees what, forms, sessions."""

import re

import pytest

from lrs.enrollments import CourseRole
from lrs.testing import COURSE, OTHER_COURSE
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for
from tests.web.seed import HOMEPAGE, block, seed

D = "/dashboard"


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    return seed(make_app(storage_for(request.param, tmp_path), ACCOUNT_HOMEPAGE=HOMEPAGE))


@pytest.fixture
def memory_app():
    return seed(make_app(ACCOUNT_HOMEPAGE=HOMEPAGE))


def token(client, path=f"{D}/sign-in"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def signed_in(app, role, username=None):
    client = app.test_client()
    if role == "admin":
        key, secret = ADMIN
    else:
        credential, secret = app.extensions["lrs"].credentials.create(role, username=username)
        key = credential.key
    response = client.post(
        f"{D}/sign-in", data={"key": key, "secret": secret, "csrf_token": token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def text(response):
    return response.get_data(as_text=True)


EXAM = "http://example.org/quiz"
PAGES = {
    "courses": f"{D}/courses",
    "report": f"{D}/courses/{COURSE}/report",
    "activity": f"{D}/courses/{COURSE}/activity",
    "exam": f"{D}/courses/{COURSE}/exam?activity={EXAM}",
    "assignments": f"{D}/courses/{COURSE}/assignments",
    "other-course": f"{D}/courses/{OTHER_COURSE}/report",
    "ada": f"{D}/learners/ada",
    "dan": f"{D}/learners/dan",
    "credentials": f"{D}/admin/credentials",
    "users": f"{D}/admin/users?q=a",
    "statements": f"{D}/admin/statements",
    "statement": f"{D}/admin/statements/00000000-0000-0000-0000-000000000001",
    "forwarding": f"{D}/admin/forwarding",
}
# What each kind of person gets on each page.
SEES = {
    "admin": dict.fromkeys(PAGES, 200),
    "coach": {
        **dict.fromkeys(PAGES, 403),
        **dict.fromkeys(["courses", "report", "activity", "exam", "assignments", "ada"], 200),
    },
    "learner": {**dict.fromkeys(PAGES, 403), "ada": 200},
}


@pytest.mark.parametrize("person", list(SEES))
def test_who_sees_what(memory_app, person):
    username = {"coach": "cy", "learner": "ada"}.get(person)
    client = signed_in(memory_app, person, username)
    for page, path in PAGES.items():
        response = client.get(path)
        assert response.status_code == SEES[person][page], (person, page, text(response)[:300])
        if response.status_code == 403:
            assert "Not yours to see" in text(response)


def test_anyone_not_signed_in_is_sent_to_sign_in(memory_app):
    client = memory_app.test_client()
    for path in PAGES.values():
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"{D}/sign-in?next=")


def headers(page):
    return re.findall(
        r'<th scope="col" class="activity"><span title="([^"]+)">([^<]+)</span>', page
    )


def cells(page, learner):
    row = re.search(
        rf'<tr>\s*<th scope="row" class="learner"><a href="{D}/learners/{learner}".*?</tr>',
        page,
        re.S,
    )
    return re.findall(r'<td class="cell[^"]*"[^>]*>(.*?)</td>', row.group(0), re.S)


def test_the_course_report_shows_every_learner_and_activity(app):
    client = signed_in(app, "coach", "cy")
    page = text(client.get(PAGES["report"]))
    assert "<h1>Biology 101</h1>" in page  # the course activity's name, its key below
    # Activities by name, in the order learners first met them, with their kind.
    assert [name for _, name in headers(page)] == ["Cells", "Page 1", "Page 2", "Quiz"]
    assert "(video)" in page and "(exam)" in page
    # Learners by full name (username below), else by username.
    assert '>Ada Lovelace</a><span class="sub">ada</span>' in page
    assert f'href="{D}/learners/bob">bob</a>' in page and "dan" not in page
    # ada: half the video, page 1 completed with 92%, page 2 started, the quiz unmarked.
    ada = cells(page, "ada")
    assert ada[0].startswith("50%") and "✓" not in ada[0]
    assert ada[1].startswith("92%") and "✓" in ada[1] and "completed" in ada[1]
    # bob failed the quiz at 20%: its score, a cross, the word; never a tick.
    bob = cells(page, "bob")
    assert (
        bob[0].startswith("–")
        and "not started" in bob[0]
        and bob[3].startswith("20%")
        and "✗" in bob[3]
        and "failed" in bob[3]
    )
    assert "✓" not in bob[3] and 'class="cell p2 failed"' in page
    assert "time spent 3 min" in page and '<span class="sub">3 min</span>' in page
    assert f"{D}/courses/{COURSE}/exam?activity=http://example.org/quiz" in page  # drill-down
    filtered = text(client.get(PAGES["report"], query_string={"q": "bo"}))
    assert "/learners/bob" in filtered and "/learners/ada" not in filtered
    by_time = text(client.get(PAGES["report"], query_string={"sort": "time"}))
    assert by_time.index("/learners/ada") < by_time.index("/learners/bob")


def test_the_learner_page_tells_what_they_did(app):
    client = signed_in(app, "learner", "ada")
    assert client.get(f"{D}/").headers["Location"] == f"{D}/learners/ada"
    page = text(client.get(PAGES["ada"]))
    assert "Ada Lovelace" in page
    assert "ada completed Page 1, 92%" in page and "min ago" in page
    for heading in ("Sessions", "Activities", "Tries and attempts", "Exams", "Assignments"):
        assert f">{heading}</h2>" in page
    # The timeline: a row per day, a bar per session, each described in words.
    timeline = re.search(r'<svg class="chart timeline-chart".*?</svg>', page, re.S).group(0)
    assert timeline.count('class="day"') == 14
    sessions = len(app.extensions["lrs"].progress.user_sessions(learner=f"account:{HOMEPAGE}|ada"))
    assert sessions >= 2 and timeline.count('<rect class="bar"') == sessions
    # Names, with the identifier below; the quiz's tries are "not mastered".
    assert 'Quiz <span class="kind">(exam)</span><span class="sub">http://example.org/quiz' in page
    assert "Biology 101" in page  # the course's name, in the activities and sessions


def test_one_quiz_tells_one_story_on_the_learner_page(memory_app):
    page = text(signed_in(memory_app, "admin").get(f"{D}/learners/bob"))
    assert "bob failed Quiz, 20%" in page  # latest
    activities = page[page.index('id="activities"') : page.index('id="tries"')]
    assert "20% failed" in activities and "passed" not in activities
    exams = page[page.index('id="exams"') : page.index('id="assignments"')]
    assert "20%" in exams and "failed" in exams
    tries = page[page.index('id="tries"') : page.index('id="exams"')]
    assert '<th scope="col">Mastered</th>' in tries


def test_the_exam_report_shows_questions_worst_first_and_scores(app):
    client = signed_in(app, "admin")
    page = text(client.get(PAGES["exam"]))
    assert page.index("quiz/q2") < page.index("quiz/q1")  # q2: none right; q1: half
    assert "50%" in page and "0%" in page
    # The question's text, and who answered it wrong with what they answered.
    assert "<h3>Is statement 2 true?</h3>" in page
    q2 = page[page.index("Is statement 2 true?") : page.index("Is statement 1 true?")]
    assert "2 not right" in q2 and "Ada Lovelace</a>: <q>false</q>" in q2 and ">bob</a>" in q2
    q1 = page[page.index("Is statement 1 true?") :]
    assert "1 not right" in q1 and "Ada Lovelace</a>: <q>" not in q1.split("</details>")[0]
    # bob failed it: flagged; nobody enrolled is left who has not started.
    assert "1 need help" in page
    bob = re.search(r'<tr class="needs-help">.*?</tr>', page, re.S).group(0)
    assert ">bob</a>" in bob and "20% failed" in bob and "needs help" in bob
    assert 'id="not-started"' not in page


def test_the_drill_down_lists_who_has_not_started_and_works_for_any_quiz(memory_app):
    storage = memory_app.extensions["lrs"]
    storage.enrollments.create_user("eve", {"full_name": "Eve Newcomer"}, actor="test")
    storage.enrollments.enroll("eve", COURSE, actor="test")
    page = text(signed_in(memory_app, "coach", "cy").get(PAGES["exam"]))
    started = page[page.index('id="not-started"') :]
    assert "Eve Newcomer" in started and "Ada" not in started
    # A page with no question (by URL) says so, and still counts its learners.
    other = text(
        signed_in(memory_app, "coach", "cy").get(
            f"{D}/courses/{COURSE}/exam", query_string={"activity": block(COURSE, 1)}
        )
    )
    assert "No question answered yet." in other and "2 learners started it" in other


def test_assignments_of_a_course(app):
    page = text(signed_in(app, "coach", "cy").get(PAGES["assignments"]))
    assert "newcomer@example.org" in page and "allocated" in page and "welcome" in page


def test_the_activity_chart_is_inline_svg_with_its_numbers(app):
    page = text(signed_in(app, "admin").get(PAGES["activity"]))
    assert '<svg class="chart"' in page and 'role="img"' in page
    # The course's ten statements, on the days they fall on (two around midnight).
    desc = re.search(r'<desc id="chart-desc">([^<]*)</desc>', page).group(1)
    assert sum(int(part.rsplit(": ", 1)[1]) for part in desc.split("; ")) == 10
    assert "<script" not in page


def test_the_statement_browser_filters_pages_and_shows_json(app, monkeypatch):
    from lrs.web import admin

    monkeypatch.setattr(admin, "STATEMENTS_PER_PAGE", 4)
    client = signed_in(app, "admin")
    first = text(client.get(PAGES["statements"]))
    assert first.count(f'href="{D}/admin/statements/') == 4
    older = re.search(r'href="([^"]+after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(client.get(older))
    assert second.count(f'href="{D}/admin/statements/') == 4
    only_dan = text(client.get(PAGES["statements"], query_string={"agent": "dan"}))
    assert only_dan.count(f'href="{D}/admin/statements/') == 1
    json_page = text(client.get(PAGES["statement"]))
    assert "&#34;actor&#34;" in json_page or '"actor"' in json_page
    assert client.get(f"{D}/admin/statements/nope").status_code == 404
    bad = client.get(PAGES["statements"], query_string={"verb": "not an iri"})
    assert bad.status_code == 400 and "verb must be an IRI" in text(bad)


def test_credentials_are_created_with_the_secret_shown_once_and_revoked(memory_app):
    client = signed_in(memory_app, "admin")
    csrf = token(client, PAGES["credentials"])
    created = client.post(
        PAGES["credentials"], data={"role": "coach", "username": "cy", "csrf_token": csrf}
    )
    assert created.status_code == 201
    key = re.search(r"<dt>Key</dt><dd><code>([^<]+)</code>", text(created)).group(1)
    secret = re.search(r"<dt>Secret</dt><dd><code>([^<]+)</code>", text(created)).group(1)
    assert secret not in text(client.get(PAGES["credentials"]))
    coach = memory_app.test_client()
    signed = coach.post(
        f"{D}/sign-in", data={"key": key, "secret": secret, "csrf_token": token(coach)}
    )
    assert signed.status_code == 302
    assert coach.get(PAGES["report"]).status_code == 200
    # A revoke asks first: the list links to a page whose form revokes.
    listed = text(client.get(PAGES["credentials"]))
    assert f'href="{D}/admin/credentials/{key}/revoke"' in listed
    asked = client.get(f"{D}/admin/credentials/{key}/revoke")
    assert asked.status_code == 200 and "stops working at once" in text(asked)
    unconfirmed = client.post(f"{D}/admin/credentials/{key}/revoke", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 200
    assert coach.get(PAGES["report"]).status_code == 200  # not revoked without the confirmation
    revoked = client.post(
        f"{D}/admin/credentials/{key}/revoke", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert revoked.status_code == 302
    # Revoked: signed out at the next page.
    assert coach.get(PAGES["report"]).status_code == 302
    bad = client.post(PAGES["credentials"], data={"role": "root", "csrf_token": csrf})
    assert bad.status_code == 400


def test_the_credential_form_starts_at_the_least_privilege_and_wants_a_known_user(memory_app):
    client = signed_in(memory_app, "admin")
    page = text(client.get(PAGES["credentials"]))
    assert "<option selected>learner</option>" in page
    csrf = token(client, PAGES["credentials"])
    before = memory_app.extensions["lrs"].credentials.count()
    unknown = client.post(
        PAGES["credentials"], data={"role": "learner", "username": "nobody", "csrf_token": csrf}
    )
    assert unknown.status_code == 400 and "no user &#39;nobody&#39;" in text(unknown)
    assert memory_app.extensions["lrs"].credentials.count() == before
    meant = client.post(
        PAGES["credentials"],
        data={
            "role": "learner",
            "username": "nobody",
            "allow_unknown_user": "yes",
            "csrf_token": csrf,
        },
    )
    assert meant.status_code == 201


def test_forms_without_their_token_do_nothing(memory_app):
    client = signed_in(memory_app, "admin")
    before = len(memory_app.extensions["lrs"].credentials.list())
    response = client.post(PAGES["credentials"], data={"role": "service"})
    assert response.status_code == 400 and "expired" in text(response)
    assert len(memory_app.extensions["lrs"].credentials.list()) == before
    assert client.post(f"{D}/sign-out").status_code == 400
    assert client.get(PAGES["courses"]).status_code == 200  # still signed in


def test_sign_in_failures_look_alike_and_are_throttled(memory_app):
    client = memory_app.test_client()
    csrf = token(client)
    wrong = client.post(f"{D}/sign-in", data={"key": ADMIN[0], "secret": "x", "csrf_token": csrf})
    unknown = client.post(
        f"{D}/sign-in", data={"key": "nobody-key-1", "secret": "x", "csrf_token": csrf}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "The key or the secret is wrong." in text(wrong) and ADMIN[0] not in text(wrong)
    answers = [
        client.post(f"{D}/sign-in", data={"key": "nobody-key-1", "secret": "x", "csrf_token": csrf})
        for _ in range(40)
    ]
    assert answers[-1].status_code == 429
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert answers[0].status_code == 401 and "Retry-After" not in answers[0].headers


def test_the_session_cookie_and_the_page_headers(memory_app):
    client = memory_app.test_client()
    csrf = token(client)
    response = client.post(
        f"{D}/sign-in", data={"key": ADMIN[0], "secret": ADMIN[1], "csrf_token": csrf}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Path=/dashboard" in cookie
    page = client.get(PAGES["courses"])
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert "Content-Disposition" not in page.headers
    secure = memory_app.test_client()
    csrf = token(secure, "https://localhost/dashboard/sign-in")
    over_https = secure.post(
        "https://localhost/dashboard/sign-in",
        data={"key": ADMIN[0], "secret": ADMIN[1], "csrf_token": csrf},
    )
    assert "Secure" in over_https.headers["Set-Cookie"]
    signed_out = client.post(f"{D}/sign-out", data={"csrf_token": token(client, PAGES["courses"])})
    assert signed_out.status_code == 302
    assert client.get(PAGES["courses"]).status_code == 302


def test_a_request_without_the_cookie_gets_an_empty_session_without_a_signer(
    memory_app, monkeypatch
):
    interface = memory_app.session_interface
    signers = []
    build = interface.get_signing_serializer
    monkeypatch.setattr(
        interface, "get_signing_serializer", lambda app: signers.append(1) or build(app)
    )
    client = memory_app.test_client()
    response = client.get("/xAPI/about")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert signers == []
    # With the cookie, the session is read (and signed) as before.
    csrf = token(client)
    client.post(f"{D}/sign-in", data={"key": ADMIN[0], "secret": ADMIN[1], "csrf_token": csrf})
    assert client.get(PAGES["courses"]).status_code == 200
    assert signers


def test_signing_in_goes_back_to_the_page_asked_for_and_nowhere_else(memory_app):
    client = memory_app.test_client()
    data = {"key": ADMIN[0], "secret": ADMIN[1], "csrf_token": token(client)}
    back = client.post(f"{D}/sign-in", data={**data, "next": PAGES["users"]})
    assert back.headers["Location"] == PAGES["users"]
    away = memory_app.test_client()
    data["csrf_token"] = token(away)
    elsewhere = away.post(f"{D}/sign-in", data={**data, "next": "https://evil.example/"})
    assert elsewhere.headers["Location"] == f"{D}/"


def test_a_large_course_is_paginated(memory_app, monkeypatch):
    from lrs.web import courses

    monkeypatch.setattr(courses, "LEARNERS_PER_PAGE", 1)
    client = signed_in(memory_app, "admin")
    first = text(client.get(PAGES["report"]))
    assert "Page 1 of 2" in first and "/learners/ada" in first and "/learners/bob" not in first
    second = text(client.get(PAGES["report"], query_string={"page": 2}))
    assert "/learners/bob" in second


def test_pages_label_their_fields_and_tables(memory_app):
    client = signed_in(memory_app, "admin")
    for path in PAGES.values():
        page = text(client.get(path))
        assert '<html lang="en">' in page and 'href="#main"' in page
        for field in re.findall(r'<input id="([^"]+)"', page):
            assert f'<label for="{field}"' in page, (path, field)
        assert page.count("<table") == page.count("<thead")
        # Offline first: everything a page loads comes from this server.
        loaded = re.findall(r'<(?:link|script|img|iframe)[^>]*(?:href|src)="([^"]+)"', page)
        assert loaded and all(url.startswith("/dashboard/static/") for url in loaded), loaded
        assert "<script" not in page


def test_a_coach_sees_only_the_learners_of_their_courses(memory_app):
    client = signed_in(memory_app, "coach", "cy")
    assert client.get(f"{D}/learners/bob").status_code == 200
    assert client.get(f"{D}/learners/dan").status_code == 403
    courses = text(client.get(PAGES["courses"]))
    assert COURSE in courses and OTHER_COURSE not in courses
    assert block(COURSE, 1)  # the seed's blocks are in the coach's course


def test_a_coach_sees_a_learner_only_in_the_courses_it_coaches_as_the_api_does(memory_app):
    """ada learns in COURSE, coached by cy, and in OTHER_COURSE, which cy does not coach."""
    from tests.web.seed import XAPI as POSTER
    from tests.web.seed import statement as seeded

    storage = memory_app.extensions["lrs"]
    storage.enrollments.enroll("ada", OTHER_COURSE, actor="test")
    elsewhere = block(OTHER_COURSE, 7)
    sent = seeded(40, "ada", elsewhere, 5, result={"completion": True, "duration": "PT9M"})
    assert (
        memory_app.test_client().post("/xAPI/statements", json=sent, headers=POSTER).status_code
        == 200
    )
    memory_app.extensions["lrs-assignments"].assign(
        elsewhere, username="ada", course_key=OTHER_COURSE, actor="test"
    )
    admin = signed_in(memory_app, "admin")
    assert elsewhere in text(admin.get(PAGES["ada"]))  # the page shows it to those who may see it
    coach = signed_in(memory_app, "coach", "cy")
    page = text(coach.get(PAGES["ada"]))
    assert block(COURSE, 1) in page
    assert elsewhere not in page and OTHER_COURSE not in page and "page7" not in page.lower()
    # The API answers the same coach the same way.
    credential, secret = storage.credentials.create("coach", username="cy")
    api = memory_app.test_client()
    refused = api.get(
        "/api/v1/progress/summaries",
        query_string={"username": "ada", "course_key": OTHER_COURSE},
        headers=basic(credential.key, secret),
    )
    assert refused.status_code == 403
    sessions = api.get(
        "/api/v1/progress/user-sessions",
        query_string={"username": "ada", "course_key": COURSE},
        headers=basic(credential.key, secret),
    )
    assert sessions.status_code == 200
    assert all(item["course_keys"] == [COURSE] for item in sessions.json)
    assert not any(elsewhere in item["activities"] for item in sessions.json)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_copy_of_the_cookie_is_worth_nothing_after_sign_out(backend, tmp_path):
    app = make_app(storage_for(backend, tmp_path), ACCOUNT_HOMEPAGE=HOMEPAGE)
    client = signed_in(app, "admin")
    cookie = client.get_cookie("lrs_dashboard", path="/dashboard")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("lrs_dashboard", cookie.value, path="/dashboard")
    assert thief.get(PAGES["courses"]).status_code in (200, 302)
    assert thief.get(PAGES["credentials"]).status_code == 200  # the copy works while signed in
    signed_out = client.post(f"{D}/sign-out", data={"csrf_token": token(client, PAGES["courses"])})
    assert signed_out.status_code == 302
    for copy in (thief, client):
        answer = copy.get(PAGES["credentials"])
        assert answer.status_code == 302 and "/dashboard/sign-in" in answer.headers["Location"]
    # Another sign-in of the same credential (another device) is not signed out by it.
    other = signed_in(app, "admin")
    assert other.get(PAGES["credentials"]).status_code == 200
    app.extensions["lrs"].close()


def test_a_coach_assigns_content_and_cancels_it_from_the_dashboard(memory_app):
    coach = signed_in(memory_app, "coach", "cy")
    path = PAGES["assignments"]
    page = text(coach.get(path))
    # The form offers the course's contents by name and its learners by name.
    assert '<option value="http://example.org/videos/cells">Cells</option>' in page
    assert 'value="ada"> Ada Lovelace (ada)' in page and 'value="dan"' not in page
    assignments = memory_app.extensions["lrs-assignments"]
    before = len(assignments.find())
    form = {"content": "http://example.org/videos/cells", "due": "2099-12-12", "note": "watch"}
    # Bad input: a learner of another course, a bad date, none chosen: nothing is stored.
    for bad, message in (
        ({**form, "username": ["ada", "dan"]}, "not learners of this course: dan"),
        ({**form, "username": ["ada"], "due": "soon"}, "due"),
        (form, "choose at least one learner"),
    ):
        answer = coach.post(path, data={**bad, "csrf_token": token(coach, path)})
        assert answer.status_code == 400 and message in text(answer), text(answer)[-600:]
        assert len(assignments.find()) == before
    made = coach.post(
        path, data={**form, "username": ["ada", "bob"], "csrf_token": token(coach, path)}
    )
    assert made.status_code == 201 and "Assigned to ada, bob." in text(made)
    mine = [item for item in assignments.find() if item.content == form["content"]]
    assert sorted(item.username for item in mine) == ["ada", "bob"]
    assert all(item.due.isoformat() == "2099-12-12T23:59:59+00:00" for item in mine)
    # Again for ada: already assigned, refused whole.
    again = coach.post(path, data={**form, "username": ["ada"], "csrf_token": token(coach, path)})
    assert again.status_code == 400 and len(assignments.find()) == before + 2
    cancel = f"{D}/courses/{COURSE}/assignments/{mine[0].id}/cancel"
    assert f'action="{cancel}"' in text(again)
    done = coach.post(cancel, data={"csrf_token": token(coach, path)})
    assert done.status_code == 302
    assert str(assignments.get(mine[0].id).state) == "cancelled"
    # Another course's coach, and a learner, may do neither.
    memory_app.extensions["lrs"].enrollments.create_user("oz", {}, actor="test")
    memory_app.extensions["lrs"].enrollments.enroll(
        "oz", OTHER_COURSE, role=CourseRole.coach, actor="test"
    )
    other = signed_in(memory_app, "coach", "oz")
    refused = other.post(
        cancel.replace(COURSE, OTHER_COURSE), data={"csrf_token": token(other, f"{D}/courses")}
    )
    assert refused.status_code == 403
    learner = signed_in(memory_app, "learner", "ada")
    posted = learner.post(
        path, data={**form, "username": ["ada"], "csrf_token": token(learner, f"{D}/learners/ada")}
    )
    assert posted.status_code == 403 and len(assignments.find()) == before + 2


def test_an_admin_creates_users_and_enrolls_them_with_a_course_role(memory_app):
    admin = signed_in(memory_app, "admin")
    path = f"{D}/admin/users"
    enrollments = memory_app.extensions["lrs"].enrollments
    created = admin.post(
        path,
        data={
            "action": "create",
            "username": "newcomer",
            "full_name": "New Comer",
            "email": "newcomer@example.org",
            "csrf_token": token(admin, path),
        },
    )
    assert created.status_code == 201 and "Created user newcomer." in text(created)
    assert enrollments.get_user("newcomer").full_name == "New Comer"
    # The assignment waiting under that address is theirs now (one use case for every door).
    waiting = memory_app.extensions["lrs-assignments"].find()
    assert [item.username for item in waiting if item.email == "newcomer@example.org"] == [
        "newcomer"
    ]
    enrolled = admin.post(
        path,
        data={
            "action": "enroll",
            "username": "newcomer",
            "course_key": COURSE,
            "role": "coach",
            "csrf_token": token(admin, path),
        },
    )
    assert enrolled.status_code == 201, text(enrolled)
    assert enrollments.get_enrollment("newcomer", COURSE).role == "coach"
    # ada is a learner of COURSE already: enrolling her as staff changes her role.
    changed = admin.post(
        path,
        data={
            "action": "enroll",
            "username": "ada",
            "course_key": COURSE,
            "role": "staff",
            "csrf_token": token(admin, path),
        },
    )
    assert (
        "role changed" in text(changed)
        and enrollments.get_enrollment("ada", COURSE).role == "staff"
    )
    # Bad input is a 400 that names the problem and changes nothing.
    users = [user.username for user in enrollments.list_users()]
    for data, message in (
        ({"action": "create", "username": "ada"}, "ada"),
        ({"action": "create", "username": "bad name\n"}, "username"),
        ({"action": "enroll", "username": "nobody", "course_key": COURSE}, "no user"),
        ({"action": "enroll", "username": "bob", "course_key": "not a key"}, "course"),
        ({"action": "enroll", "username": "bob", "course_key": COURSE, "role": "king"}, "role"),
        ({"action": "drop"}, "no action"),
    ):
        answer = admin.post(path, data={**data, "csrf_token": token(admin, path)})
        assert answer.status_code == 400 and message in text(answer), (data, text(answer)[-500:])
    assert [user.username for user in enrollments.list_users()] == users
    assert enrollments.get_enrollment("bob", COURSE).role == "learner"
    coach = signed_in(memory_app, "coach", "cy")
    refused = coach.post(
        path, data={"action": "create", "username": "x", "csrf_token": token(coach, f"{D}/courses")}
    )
    assert refused.status_code == 403 and "x" not in [u.username for u in enrollments.list_users()]


def test_an_admin_manages_forwarding_from_the_dashboard(memory_app):
    from tests.support import LiveServer, make_app

    target = LiveServer()
    target.app = make_app()
    try:
        admin = signed_in(memory_app, "admin")
        path = PAGES["forwarding"]
        stores = memory_app.extensions["lrs"].forwarding
        form = {"action": "add", "url": f"{target.url}/xAPI", "key": ADMIN[0], "secret": ADMIN[1]}
        bad = admin.post(path, data={**form, "secret": "wrong", "csrf_token": token(admin, path)})
        assert bad.status_code == 400 and "refused the credential" in text(bad)
        assert stores.targets() == []
        added = admin.post(path, data={**form, "csrf_token": token(admin, path)})
        assert added.status_code == 201 and "Added" in text(added), text(added)[-800:]
        (made,) = stores.targets()
        assert f"{target.url}/xAPI" in text(admin.get(path)) and ADMIN[1] not in text(
            admin.get(path)
        )
        paused = admin.post(
            path, data={"action": "pause", "target": made.id, "csrf_token": token(admin, path)}
        )
        assert paused.status_code == 200 and stores.get(made.id).state == "paused"
        unsure = admin.post(
            path, data={"action": "remove", "target": made.id, "csrf_token": token(admin, path)}
        )
        assert unsure.status_code == 400 and len(stores.targets()) == 1
        removed = admin.post(
            path,
            data={
                "action": "remove",
                "target": made.id,
                "confirm": "yes",
                "csrf_token": token(admin, path),
            },
        )
        assert removed.status_code == 200 and stores.targets() == []
    finally:
        target.stop()
