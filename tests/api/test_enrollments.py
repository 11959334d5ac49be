"""Users and enrollments over HTTP."""

import io
import json
import threading

import pytest

from lrs.testing import COURSE, OTHER_COURSE
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

USERS = "/api/v1/users"
ENROLLMENTS = "/api/v1/enrollments"
ONE = "/api/v1/enrollment"


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    return make_app(storage_for(request.param, tmp_path))


@pytest.fixture
def store(app):
    return app.extensions["lrs"].enrollments


def make_users(http, admin, *names, **fields):
    for name in names:
        response = http.post(USERS, json={"username": name, **fields}, headers=admin)
        assert response.status_code == 201, response.json


class TestUsers:
    def test_create_read_update_and_list(self, http, admin):
        response = http.post(
            USERS,
            json={
                "username": "ada",
                "email": "ada@example.org",
                "full_name": "Ada Lovelace",
                "language": "en",
                "profile": {"city": "London", "a.b": {"$x": 1}},
                "reason": "signup",
            },
            headers=admin,
        )
        assert response.status_code == 201
        assert response.json["profile"] == {"city": "London", "a.b": {"$x": 1}}
        assert response.json["is_active"] is True
        assert http.get(f"{USERS}/ada", headers=admin).json["full_name"] == "Ada Lovelace"
        changed = http.patch(
            f"{USERS}/ada", json={"is_staff": True, "reason": "hired"}, headers=admin
        )
        assert changed.status_code == 200 and changed.json["is_staff"] is True
        make_users(http, admin, "bob", "cy")
        http.patch(f"{USERS}/cy", json={"is_active": False}, headers=admin)
        listed = http.get(USERS, query_string={"page_size": 2}, headers=admin)
        assert [user["username"] for user in listed.json] == ["ada", "bob"]
        assert json.loads(listed.headers["X-Pagination"])["next_page"] == 2
        staff = http.get(USERS, query_string={"is_staff": "true"}, headers=admin).json
        assert [user["username"] for user in staff] == ["ada"]
        inactive = http.get(USERS, query_string={"is_active": "false"}, headers=admin).json
        assert [user["username"] for user in inactive] == ["cy"]

    def test_history_is_newest_first_with_actor_and_reason(self, http, admin):
        http.post(
            USERS, json={"username": "ada", "email": "a@x.org", "reason": "signup"}, headers=admin
        )
        http.patch(f"{USERS}/ada", json={"email": "b@x.org", "reason": "typo"}, headers=admin)
        history = http.get(f"{USERS}/ada/history", headers=admin).json
        assert [(c["action"], c["reason"], c["actor"]) for c in history] == [
            ("updated", "typo", ADMIN[0]),
            ("created", "signup", ADMIN[0]),
        ]
        assert (history[0]["before"]["email"], history[0]["after"]["email"]) == (
            "a@x.org",
            "b@x.org",
        )
        assert http.get(f"{USERS}/nobody/history", headers=admin).status_code == 404

    def test_learners_see_who_changed_them_by_role_not_by_key(self, app, http, admin):
        http.post(USERS, json={"username": "ada", "reason": "signup"}, headers=admin)
        http.post(ENROLLMENTS, json={"username": "ada", "course_key": COURSE}, headers=admin)
        app.extensions["lrs"].enrollments.update_user(
            "ada", {"full_name": "Ada"}, actor="cli:root", reason="import"
        )
        key, secret = "ada-learner-key", "ada-learner-secret-" + "0" * 20
        app.extensions["lrs"].credentials.create("learner", key=key, secret=secret, username="ada")
        learner = basic(key, secret)
        for path, query in (
            (f"{USERS}/ada/history", None),
            (f"{ONE}/history", {"username": "ada", "course_key": COURSE}),
        ):
            seen = http.get(path, query_string=query, headers=learner)
            assert seen.status_code == 200
            assert ADMIN[0] not in seen.get_data(as_text=True)
            assert {change["actor"] for change in seen.json} <= {"admin", "cli"}
            assert {c["actor"] for c in http.get(path, query_string=query, headers=admin).json} <= {
                ADMIN[0],
                "cli:root",
            }
        user_history = http.get(f"{USERS}/ada/history", headers=learner).json
        assert [change["actor"] for change in user_history] == ["cli", "admin"]

    @pytest.mark.parametrize(
        "body",
        [
            {"username": "with space"},
            {"username": ""},
            {"username": "bob", "email": "not-an-email"},
            {"username": "bob", "is_staff": "yes"},
            {"username": "bob", "is_staff": 1},
            {"username": "bob", "profile": [1]},
            {"username": "bob", "unknown": 1},
            {"username": "bob", "language": "english!"},
            {"username": 7},
        ],
    )
    def test_bad_users_are_400_and_create_nothing(self, http, admin, store, body):
        response = http.post(USERS, json=body, headers=admin)
        assert response.status_code == 400, response.json
        assert response.json["message"]
        assert list(store.list_users()) == []

    def test_a_taken_username_is_409_and_unknown_users_404(self, http, admin, store):
        make_users(http, admin, "ada")
        assert http.post(USERS, json={"username": "ada"}, headers=admin).status_code == 409
        assert http.get(f"{USERS}/nobody", headers=admin).status_code == 404
        assert (
            http.patch(f"{USERS}/nobody", json={"email": "a@b.c"}, headers=admin).status_code == 404
        )
        assert len(store.history("ada")) == 1


class TestEnrollments:
    def test_enroll_is_idempotent_and_unenroll_is_soft(self, http, admin):
        make_users(http, admin, "ada")
        body = {"username": "ada", "course_key": COURSE, "reason": "purchase"}
        created = http.post(ENROLLMENTS, json=body, headers=admin)
        assert created.status_code == 201
        assert (created.json["outcome"], created.json["mode"], created.json["role"]) == (
            "created",
            "audit",
            "learner",
        )
        again = http.post(ENROLLMENTS, json=body, headers=admin)
        assert (again.status_code, again.json["outcome"]) == (200, "unchanged")
        query = {"username": "ada", "course_key": COURSE, "reason": "refund"}
        gone = http.delete(ONE, query_string=query, headers=admin)
        assert gone.status_code == 200 and gone.json["is_active"] is False
        assert (
            http.get(ONE, query_string=query | {"reason": None}, headers=admin).status_code == 200
        )
        back = http.post(ENROLLMENTS, json={**body, "mode": "verified"}, headers=admin)
        assert (back.status_code, back.json["outcome"], back.json["mode"]) == (
            200,
            "reactivated",
            "verified",
        )
        history = http.get(
            f"{ONE}/history", query_string={"username": "ada", "course_key": COURSE}, headers=admin
        ).json
        assert [(c["action"], c["reason"]) for c in history] == [
            ("reactivated", "purchase"),
            ("unenrolled", "refund"),
            ("created", "purchase"),
        ]

    def test_change_mode_and_role_list_and_count(self, http, admin):
        make_users(http, admin, "ada", "bob", "sam")
        http.patch(f"{USERS}/sam", json={"is_staff": True}, headers=admin)
        for name in ("ada", "bob", "sam"):
            http.post(ENROLLMENTS, json={"username": name, "course_key": COURSE}, headers=admin)
        http.post(ENROLLMENTS, json={"username": "ada", "course_key": OTHER_COURSE}, headers=admin)
        changed = http.patch(
            ONE,
            query_string={"username": "bob", "course_key": COURSE},
            json={"mode": "verified", "role": "coach", "reason": "TA"},
            headers=admin,
        )
        assert (changed.json["mode"], changed.json["role"]) == ("verified", "coach")
        by_course = http.get(ENROLLMENTS, query_string={"course_key": COURSE}, headers=admin).json
        assert [(e["username"], e["role"]) for e in by_course] == [
            ("ada", "learner"),
            ("bob", "coach"),
            ("sam", "staff"),  # staff users are enrolled as staff
        ]
        by_learner = http.get(ENROLLMENTS, query_string={"username": "ada"}, headers=admin).json
        assert [e["course_key"] for e in by_learner] == [COURSE, OTHER_COURSE]
        coaches = http.get(
            ENROLLMENTS, query_string={"course_key": COURSE, "role": "coach"}, headers=admin
        ).json
        assert [e["username"] for e in coaches] == ["bob"]
        counts = http.get(
            f"{ENROLLMENTS}/counts", query_string={"course_key": COURSE}, headers=admin
        )
        assert counts.json == {
            "course_key": COURSE,
            "active": 3,
            "inactive": 0,
            "by_mode": {"audit": 2, "verified": 1},
            "by_role": {"learner": 1, "coach": 1, "staff": 1},
        }

    @pytest.mark.parametrize(
        ("body", "status"),
        [
            ({"username": "nobody", "course_key": COURSE}, 404),
            ({"username": "ada", "course_key": "not a course"}, 400),
            ({"username": "ada", "course_key": "course-v1:Org+Course"}, 400),
            ({"username": "ada", "course_key": COURSE, "mode": "gold"}, 400),
            ({"username": "ada", "course_key": COURSE, "role": "admin"}, 400),
            ({"username": "ada"}, 400),
            ({"username": "ada", "course_key": COURSE, "extra": 1}, 400),
        ],
    )
    def test_bad_enrollments_change_nothing(self, http, admin, store, body, status):
        make_users(http, admin, "ada")
        response = http.post(ENROLLMENTS, json=body, headers=admin)
        assert response.status_code == status, response.json
        assert response.json["message"]
        assert list(store.list_enrollments()) == []

    def test_bad_changes_change_nothing(self, http, admin, store):
        make_users(http, admin, "ada")
        http.post(ENROLLMENTS, json={"username": "ada", "course_key": COURSE}, headers=admin)
        query = {"username": "ada", "course_key": COURSE}
        for body in ({"mode": "gold"}, {"role": "owner"}, {"is_active": "no"}, {"x": 1}):
            assert http.patch(ONE, query_string=query, json=body, headers=admin).status_code == 400
        missing = {"username": "ada", "course_key": OTHER_COURSE}
        assert (
            http.patch(
                ONE, query_string=missing, json={"mode": "verified"}, headers=admin
            ).status_code
            == 404
        )
        assert http.delete(ONE, query_string=missing, headers=admin).status_code == 404
        assert store.get_enrollment("ada", COURSE).mode == "audit"
        assert len(store.history("ada", COURSE)) == 1

    def test_simultaneous_enrollments_leave_one_record(self, app, admin, store):
        app.test_client().post(USERS, json={"username": "ada"}, headers=admin)
        statuses = []
        lock = threading.Lock()

        def enroll():
            response = app.test_client().post(
                ENROLLMENTS, json={"username": "ada", "course_key": COURSE}, headers=admin
            )
            with lock:
                statuses.append(response.status_code)

        threads = [threading.Thread(target=enroll) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] * 7 + [201]
        assert len(list(store.list_enrollments())) == 1


class TestBulk:
    def test_json_rows_each_get_a_result(self, http, admin, store):
        make_users(http, admin, "ada", "bob")
        http.post(ENROLLMENTS, json={"username": "bob", "course_key": COURSE}, headers=admin)
        rows = [
            {"username": "ada", "course_key": COURSE, "mode": "verified"},
            {"username": "bob", "course_key": COURSE},
            {"username": "nobody", "course_key": COURSE},
            {"username": "ada", "course_key": "bad key"},
            {"username": "ada", "course_key": OTHER_COURSE, "role": "owner"},
            "not a row",
            {"username": "ada", "course_key": OTHER_COURSE},
        ]
        response = http.post(
            f"{ENROLLMENTS}/bulk", json=rows, query_string={"reason": "import"}, headers=admin
        )
        assert response.status_code == 200, response.json
        results = response.json["results"]
        assert [r["result"] for r in results] == [
            "created",
            "unchanged",
            "error",
            "error",
            "error",
            "error",
            "created",
        ]
        assert "nobody" in results[2]["reason"] and "course key" in results[3]["reason"]
        assert response.json["summary"] == {"created": 2, "unchanged": 1, "error": 4}
        assert store.get_enrollment("ada", COURSE).mode == "verified"
        assert store.history("ada", COURSE)[0].reason == "import"

    def test_a_dry_run_says_what_would_happen_and_writes_nothing(self, http, admin, store):
        make_users(http, admin, "ada", "bob")
        http.post(ENROLLMENTS, json={"username": "bob", "course_key": COURSE}, headers=admin)
        http.delete(ONE, query_string={"username": "bob", "course_key": COURSE}, headers=admin)
        csv = f"username,course_key\nada,{COURSE}\nbob,{COURSE}\nada,{COURSE}\nnobody,{COURSE}\n"
        response = http.post(
            f"{ENROLLMENTS}/bulk",
            data=csv,
            content_type="text/csv",
            query_string={"dry_run": "true"},
            headers=admin,
        )
        assert response.json["dry_run"] is True
        assert [r["result"] for r in response.json["results"]] == [
            "created",
            "reactivated",
            "unchanged",
            "error",
        ]
        assert [(e.username, e.is_active) for e in store.list_enrollments()] == [("bob", False)]

    def test_a_csv_upload(self, http, admin, store):
        make_users(http, admin, "ada")
        upload = io.BytesIO(f"username,course_key,mode\nada,{COURSE},honor\n".encode())
        response = http.post(
            f"{ENROLLMENTS}/bulk",
            data={"file": (upload, "enrollments.csv")},
            content_type="multipart/form-data",
            headers=admin,
        )
        assert response.status_code == 200, response.json
        assert response.json["summary"] == {"created": 1}
        assert store.get_enrollment("ada", COURSE).mode == "honor"

    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            (b"name,course\nada,x\n", "text/csv"),
            (b"", "text/csv"),
            (b"\xff\xfe", "text/csv"),
            (b'{"rows": []}', "application/json"),
            (b"[", "application/json"),
            (b"ada", "text/plain"),
        ],
    )
    def test_bad_uploads_are_400_and_change_nothing(self, http, admin, store, data, content_type):
        make_users(http, admin, "ada")
        response = http.post(
            f"{ENROLLMENTS}/bulk", data=data, content_type=content_type, headers=admin
        )
        assert response.status_code == 400
        assert response.json["message"]
        assert list(store.list_enrollments()) == []

    def test_oversized_uploads_are_refused(self, admin):
        http = make_app(MAX_BODY_BYTES=10_000).test_client()
        big = "username,course_key\n" + f"ada,{COURSE}\n" * 1000
        response = http.post(
            f"{ENROLLMENTS}/bulk", data=big, content_type="text/csv", headers=admin
        )
        assert response.status_code == 413
        many = [{"username": "ada", "course_key": COURSE}] * 10_001
        http = make_app(MAX_BODY_BYTES=10_000_000).test_client()
        response = http.post(f"{ENROLLMENTS}/bulk", json=many, headers=admin)
        assert response.status_code == 400
        assert "10000" in response.json["message"]
