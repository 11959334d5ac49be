"""Random query parameters never make a dashboard page or an export answer 5xx."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.testing import COURSE
from tests.support import ADMIN, basic, make_app
from tests.web.seed import HOMEPAGE, seed
from tests.web.test_pages import signed_in

SETTINGS = settings(
    max_examples=int(os.environ.get("LRS_FUZZ_EXAMPLES", "60")),
    derandomize=not os.environ.get("LRS_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

D = "/dashboard"
PAGES = [
    f"{D}/courses",
    f"{D}/courses/{COURSE}/report",
    f"{D}/courses/{COURSE}/activity",
    f"{D}/courses/{COURSE}/exam",
    f"{D}/courses/{COURSE}/assignments",
    f"{D}/learners/ada",
    f"{D}/admin/credentials",
    f"{D}/admin/users",
    f"{D}/admin/statements",
    f"{D}/sign-in",
]
NAMES = [
    "q", "sort", "page", "activity", "after", "agent", "verb", "since", "until", "next",
    "format", "course_key", "bom", "x",
]  # fmt: skip
# Values that have broken parsers before: control characters, long digit runs,
# dates past the ends of the calendar, other scripts.
SPECIAL = st.sampled_from(
    [
        "1" * 30,
        "²",
        "-1",
        "0",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T01:00:00+05:00",
        "2026-13-45",
        "/dashboard/\r\nX: y",
        "http://example.org/\n",
        "123:00000000-0000-0000-0000-000000000001",
        "99999999999999999999:x",
        "course-v1:X+Y+1\n",
        "\x00",
        "true",
        "csv",
    ]
)
VALUES = SPECIAL | st.text(max_size=40)


@pytest.fixture(scope="module")
def app():
    return seed(make_app(ACCOUNT_HOMEPAGE=HOMEPAGE))


@pytest.fixture(scope="module")
def admin(app):
    return signed_in(app, "admin")


@SETTINGS
@given(
    page=st.sampled_from(PAGES), query=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4)
)
def test_random_query_parameters_never_give_a_dashboard_error(admin, page, query):
    response = admin.get(page, query_string=query)
    assert response.status_code < 500, (page, query)
    assert response.headers.get_all("Cache-Control") in ([], ["no-store"], ["no-cache"])


@SETTINGS
@given(
    kind=st.sampled_from(["statements", "summaries", "users", "sessions", "nope"]),
    query=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4),
)
def test_random_query_parameters_never_give_an_export_error(app, kind, query):
    response = app.test_client().get(
        f"/api/v1/exports/{kind}", query_string=query, headers=basic(*ADMIN), buffered=True
    )
    body = response.get_data()  # a stream: errors can come while it is written
    assert response.status_code < 500, (kind, query, body[:200])


@pytest.mark.parametrize(
    ("page", "query"),
    [
        pytest.param("admin/statements", {"after": "1" * 30 + ":x"}, id="after-30-digits"),
        pytest.param("admin/statements", {"after": "²:x"}, id="after-superscript"),
        pytest.param(
            "admin/statements", {"since": "9999-12-31T23:00:00-05:00"}, id="since-past-9999"
        ),
        pytest.param(f"courses/{COURSE}/report", {"page": "²"}, id="page-superscript"),
    ],
)
def test_bad_dashboard_parameters_are_400_with_a_message_or_ignored(admin, page, query):
    response = admin.get(f"{D}/{page}", query_string=query)
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert "after" in response.get_data(as_text=True) or "since" in response.get_data(
            as_text=True
        )


def test_a_next_with_a_line_break_signs_in_to_the_home_page(app):
    from tests.web.test_pages import token

    client = app.test_client()
    response = client.post(
        f"{D}/sign-in",
        data={
            "key": ADMIN[0],
            "secret": ADMIN[1],
            "next": "/dashboard/\r\nSet-Cookie: x=1",
            "csrf_token": token(client),
        },
    )
    assert response.status_code == 302
    assert "\n" not in response.headers["Location"] and "x=1" not in response.headers["Location"]
