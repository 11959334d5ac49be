"""The dashboard's pages. Who sees what is ``lrs.credentials.access``'s policy, asked here."""

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from lrs.assignments.base import ACTIVE, Filters, State
from lrs.clock import default_clock, from_us, to_us
from lrs.credentials.access import Access
from lrs.credentials.base import Role
from lrs.exceptions import DoesNotExist, InvalidInput, PermissionDenied, UserStateError
from lrs.patterns import Whole
from lrs.progress.derive import ASSESSMENT_TYPE
from lrs.usecases.assignments import Assignments
from lrs.usecases.credentials import create_credential
from lrs.usecases.reports import report_of_course, report_of_exam
from lrs.usecases.storage import Storage
from lrs.web import words
from lrs.web.chart import Bar, Span, bar_chart, day_timeline
from lrs.xapi import syntax
from lrs.xapi.agents import AccountAgents
from lrs.xapi.courses import course_of
from lrs.xapi.statements.base import DAY_US, StatementQuery

blp = Blueprint(
    "web",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)

#: Learners a page of the course report shows.
LEARNERS_PER_PAGE = 50
#: Statements a page of the statement browser shows.
STATEMENTS_PER_PAGE = 50
#: Days the course activity chart covers.
CHART_DAYS = 30


def _storage() -> Storage:
    found: Storage = current_app.extensions["lrs"]
    return found


def _accounts() -> AccountAgents:
    found: AccountAgents = current_app.extensions["lrs-accounts"]
    return found


def _assignments() -> Assignments:
    found: Assignments = current_app.extensions["lrs-assignments"]
    return found


def _access() -> Access:
    found: Access = g.access
    return found


def _now() -> datetime:
    return from_us(default_clock.now_us())


# -- signing in ------------------------------------------------------------------


@blp.before_request
def load_person() -> ResponseReturnValue | None:
    """Find who is signed in; send anyone else to the sign-in page; check forms' tokens."""
    g.person = None
    # The cookie holds a session's token, which the store finds until sign-out
    # (a copy of the cookie then finds nothing), and the credential is read
    # again: revoked since, signed out.
    key = _storage().credentials.session_key(session.get("session"))
    if key is None:
        if "session" in session:
            del session["session"]  # over: signed out, or past its end
    else:
        try:
            credential = _storage().credentials.get(key)
        except DoesNotExist:
            credential = None
        if credential is not None and credential.active:
            g.person = credential
            g.access = Access(credential, _storage().enrollments, _accounts())
        else:
            session.clear()  # revoked since: signed out
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from None
    if request.endpoint in ("web.sign_in", "web.static") or g.person is not None:
        return None
    return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))


@blp.app_template_global()
def csrf_field() -> Markup:
    """The hidden CSRF field every form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


# A path of this dashboard, with its query: no host, no backslash (which some
# browsers read as a slash), no control character (a header cannot hold one).
_DASHBOARD_PATH = Whole(r"/dashboard(?:[/?#][^\\\x00-\x20\x7f-\x9f]*)?")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this dashboard only (no open redirect)."""
    if _DASHBOARD_PATH(target) and not urlsplit(str(target)).netloc:
        return str(target)
    return url_for("web.home")


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """Sign in with a credential's key and secret."""
    if request.method == "GET":
        return render_template("sign_in.html", next=request.args.get("next", ""))
    key = request.form.get("key", "").strip()
    secret = request.form.get("secret", "")
    credential = _storage().credentials.authenticate(key, secret)
    if credential is None:
        # The same answer whatever was wrong, counted as the API counts it.
        wait = current_app.extensions["lrs-throttle"].failed(key, request.remote_addr or "")
        message = "The key or the secret is wrong."
        if wait:
            message = f"Too many failed sign-ins from here or for this key: retry in {wait} s."
        page = render_template("sign_in.html", next=request.form.get("next", ""), error=message)
        if wait:
            return page, 429, {"Retry-After": str(wait)}
        return page, 401
    session.clear()
    session["session"] = _storage().credentials.open_session(credential.key)
    return redirect(_safe_next(request.form.get("next")))


@blp.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    """Sign out: the session ends on the server, so a copy of its cookie is worth nothing."""
    _storage().credentials.close_session(session.get("session"))
    session.clear()
    return redirect(url_for("web.sign_in"))


@blp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    """A form without its token (or an old one): nothing was done."""
    message = "This form has expired or did not come from this dashboard; nothing was done."
    return render_template("error.html", status=400, message=message), 400


@blp.errorhandler(UserStateError)
def refused(error: UserStateError) -> ResponseReturnValue:
    """The store's refusals, as pages."""
    status = 400
    if isinstance(error, PermissionDenied):
        status = 403
    elif isinstance(error, DoesNotExist):
        status = 404
    elif not isinstance(error, InvalidInput):
        raise error
    return render_template("error.html", status=status, message=str(error)), status


@blp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    """HTTP errors as pages."""
    status = error.code or 500
    return render_template("error.html", status=status, message=error.description), status


# -- who sees what ------------------------------------------------------------------


def _require_admin() -> None:
    _access().require_admin()


def _visible_courses() -> list[str]:
    courses = _access().visible_courses()
    if courses is None:
        return sorted({item.course_key for item in _storage().enrollments.list_enrollments()})
    return sorted(courses)


# -- pages --------------------------------------------------------------------------


@blp.route("/")
def home() -> ResponseReturnValue:
    """A learner's own page, or the courses."""
    granted = _access()
    if granted.own_learner is not None:
        return redirect(url_for("web.learner", username=granted.own_learner))
    if granted.is_admin and not _visible_courses():
        return redirect(url_for("web.admin_credentials"))
    return redirect(url_for("web.courses"))


@blp.route("/courses")
def courses() -> ResponseReturnValue:
    """The courses the person coaches (admins: all), with enrollments and recent activity."""
    rows = []
    for course in _visible_courses():
        counts = _storage().enrollments.course_counts(course)
        summaries = _storage().progress.summaries(course=course)
        last = max((summary.last_us for summary in summaries), default=None)
        rows.append(
            {
                "course": course,
                "active": counts["active"],
                "learners": counts["by_role"].get("learner", 0),
                "last": None if last is None else words.ago(from_us(last), _now()),
            }
        )
    return render_template("courses.html", rows=rows)


@blp.route("/courses/<path:course>/report")
def course(course: str) -> ResponseReturnValue:
    """The course report: learners x activities, a page of learners at a time."""
    _access().require_course(course)
    storage = _storage()
    accounts = _accounts()
    visible = _access().course_learners(course)
    report = report_of_course(
        storage.progress, storage.enrollments, accounts, course, visible=visible
    )
    rows = report.learners
    wanted = request.args.get("q", "").strip().lower()
    if wanted:
        rows = [row for row in rows if wanted in _name(row.learner, accounts).lower()]
    order = request.args.get("sort", "name")
    if order == "completed":
        rows = sorted(rows, key=lambda row: (-row.completed, _name(row.learner, accounts)))
    elif order == "time":
        rows = sorted(rows, key=lambda row: (-row.time_spent_us, _name(row.learner, accounts)))
    else:
        order = "name"
        rows = sorted(rows, key=lambda row: _name(row.learner, accounts))
    pages = max(1, math.ceil(len(rows) / LEARNERS_PER_PAGE))
    page = min(max(1, _integer("page", 1)), pages)
    shown = rows[(page - 1) * LEARNERS_PER_PAGE : page * LEARNERS_PER_PAGE]
    return render_template(
        "course.html",
        course=course,
        report=report,
        rows=shown,
        count=len(rows),
        page=page,
        pages=pages,
        order=order,
        q=request.args.get("q", ""),
        name=lambda key: _name(key, accounts),
        username=accounts.username,
        cell=_cell,
        exams=[item.activity for item in report.activities if item.kind == ASSESSMENT_TYPE],
        duration=words.duration,
    )


def _name(key: str, accounts: AccountAgents) -> str:
    return accounts.username(key) or key


_NUMBER = Whole(r"[0-9]{1,9}")


def _integer(name: str, default: int) -> int:
    value = request.args.get(name, "")
    return int(value) if _NUMBER(value) else default


def _cell(summary: Any) -> dict[str, Any]:
    """How one learner's summary of one activity shows: text, tenth for colour, details."""
    if summary is None:
        return {"text": "–", "tenth": None, "done": False, "title": "not started"}
    percent = round(summary.progress * 100)
    done = summary.completion_us is not None
    title = f"time spent {words.duration(summary.time_spent_us)}"
    if done:
        title += f"; completed {from_us(summary.completion_us):%Y-%m-%d}"
    return {
        "text": f"{percent}%",
        "tenth": min(10, percent // 10),
        "done": done,
        "title": title,
    }


@blp.route("/courses/<path:course>/activity")
def course_activity(course: str) -> ResponseReturnValue:
    """Statements per day in a course over the last 30 days, as a chart and a table."""
    _access().require_course(course)
    today = _now().date()
    first = today - timedelta(days=CHART_DAYS - 1)
    start_us = to_us(datetime.combine(first, datetime.min.time(), tzinfo=UTC))
    first_day = start_us // DAY_US
    per_day = _storage().statements.course_days(course, start_us, start_us + CHART_DAYS * DAY_US)
    bars = [
        Bar(f"{first + timedelta(days=n):%m-%d}", per_day[first_day + n]) for n in range(CHART_DAYS)
    ]
    chart = Markup(bar_chart(bars, f"Statements per day in {course}, last {CHART_DAYS} days"))
    return render_template("activity.html", course=course, chart=chart, bars=bars)


@blp.route("/courses/<path:course>/exam")
def exam(course: str) -> ResponseReturnValue:
    """An exam of a course: each question's share of correct answers, each learner's score."""
    _access().require_course(course)
    activity = request.args.get("activity", "")
    if not activity:
        raise InvalidInput("name the exam: ?activity=IRI")
    accounts = _accounts()
    report = report_of_exam(
        _storage().progress, activity, course=course, visible=_access().course_learners(course)
    )
    scores = sorted(
        ((_name(item.learner, accounts), item) for item in report.summaries),
        key=lambda pair: pair[0],
    )
    return render_template("exam.html", course=course, report=report, scores=scores)


_STATE_ORDER = {
    State.expired: 0,
    State.errored: 1,
    State.allocated: 2,
    State.accepted: 3,
    State.completed: 4,
    State.cancelled: 5,
    State.reversed: 6,
}


@blp.route("/courses/<path:course>/assignments")
def course_assignments(course: str) -> ResponseReturnValue:
    """The assignments of a course by state, overdue (expired) first."""
    _access().require_course(course)
    found = _assignments().find(Filters(course_key=course))
    found.sort(key=lambda item: (_STATE_ORDER[item.state], item.due or item.created, item.id))
    counts = Counter(str(item.state) for item in found)
    return render_template("assignments.html", course=course, assignments=found, counts=counts)


@blp.route("/learners/<username>")
def learner(username: str) -> ResponseReturnValue:
    """A learner: sessions, summaries, tries, exams, assignments, latest statements."""
    # A coach sees the learner in the courses it coaches, and nothing of the
    # others: the rule of the progress API and exports (lrs.credentials.access).
    courses = _access().record_courses(username)

    def shown(course: str | None) -> bool:
        return courses is None or course in courses

    storage = _storage()
    accounts = _accounts()
    key = accounts.key(username)
    try:
        user = storage.enrollments.get_user(username)
    except DoesNotExist:
        user = None
    progress = storage.progress
    every_session = progress.user_sessions(learner=key, within=courses)
    sessions = every_session[-20:][::-1]
    timeline = Markup(_timeline(every_session, username))
    summaries = [item for item in progress.summaries(learner=key) if shown(item.course)]
    contents = {item.content for item in summaries}
    tries = [item for item in progress.tries(learner=key) if item.content in contents]
    exams = [item for item in progress.exams(learner=key) if shown(item.course)]
    assignments = [
        item
        for item in storage.assignments.find(Filters(username=username))
        if shown(item.course_key)
    ]
    now = _now()
    latest: list[dict[str, Any]] = []
    for record in storage.statements.query(StatementQuery(agent=key, limit=200)):
        statement = orjson.loads(record.text)
        if not shown(course_of(statement)):
            continue
        if len(latest) == 20:
            break
        latest.append(
            {
                "words": words.sentence(statement, accounts),
                "when": words.ago(words.happened(statement, record.stored_us), now),
                "id": record.id,
            }
        )
    return render_template(
        "learner.html",
        username=username,
        user=user,
        sessions=sessions,
        timeline=timeline,
        summaries=summaries,
        tries=tries,
        exams=exams,
        assignments=assignments,
        active=ACTIVE,
        latest=latest,
        duration=words.duration,
        time=from_us,
    )


#: Days the learner's timeline shows.
TIMELINE_DAYS = 14


def _timeline(sessions: list[Any], username: str) -> str:
    """The learner's sessions of the last 14 days on a day-by-hour timeline (UTC)."""
    today = _now().date()
    days = [today - timedelta(days=n) for n in range(TIMELINE_DAYS - 1, -1, -1)]
    names = [f"{day:%a %m-%d}" for day in days]
    spans = []
    for visit in sessions:
        start, end = from_us(visit.start_us), from_us(visit.end_us)
        if start.date() < days[0]:
            continue
        # A session past midnight is cut at the end of its first day.
        hours = start.hour + start.minute / 60
        end_hours = 24.0 if end.date() != start.date() else end.hour + end.minute / 60
        label = f"{start:%H:%M} to {end:%H:%M}, {words.duration(visit.end_us - visit.start_us)}"
        spans.append(Span(f"{start:%a %m-%d}", hours, end_hours, label))
    return day_timeline(names, spans, f"{username}'s sessions, last {TIMELINE_DAYS} days (UTC)")


# -- admin ----------------------------------------------------------------------------


@blp.route("/admin/credentials", methods=["GET", "POST"])
def admin_credentials() -> ResponseReturnValue:
    """Credentials: the list, and a new one (its secret shown once)."""
    _require_admin()
    created = None
    error = None
    if request.method == "POST":
        role = request.form.get("role", "")
        username = request.form.get("username", "").strip() or None
        name = request.form.get("name", "").strip()
        unknown = request.form.get("allow_unknown_user") == "yes"
        try:
            credential, secret = create_credential(
                _storage(), role, username=username, name=name, allow_unknown_user=unknown
            )
            created = {"key": credential.key, "secret": secret, "role": credential.role}
        except InvalidInput as exc:
            error = str(exc)
    listed = _storage().credentials.list(include_revoked=True)
    status = 400 if error else 201 if created else 200
    page = render_template(
        "credentials.html",
        credentials=listed,
        created=created,
        error=error,
        # The least privilege first: a learner's credential unless chosen otherwise.
        roles=[Role.learner.value, Role.coach.value, Role.service.value, Role.admin.value],
    )
    return page, status


@blp.route("/admin/credentials/<key>/revoke", methods=["GET", "POST"])
def revoke_credential(key: str) -> ResponseReturnValue:
    """Revoke a credential, once confirmed: the page asks first, its form revokes."""
    _require_admin()
    credential = _storage().credentials.get(key)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        _storage().credentials.revoke(key)
        return redirect(url_for("web.admin_credentials"))
    return render_template("revoke.html", credential=credential)


@blp.route("/admin/users")
def admin_users() -> ResponseReturnValue:
    """Users and their enrollments, found by part of a username, e-mail address or name."""
    _require_admin()
    wanted = request.args.get("q", "").strip().lower()
    found = []
    if wanted:
        for user in _storage().enrollments.list_users():
            text = f"{user.username} {user.email} {user.full_name}".lower()
            if wanted in text:
                enrollments = list(_storage().enrollments.list_enrollments(username=user.username))
                found.append((user, enrollments))
                if len(found) >= 100:
                    break
    return render_template("users.html", q=request.args.get("q", ""), found=found)


_STORED_US = Whole(r"[0-9]{1,19}")


@blp.route("/admin/statements")
def admin_statements() -> ResponseReturnValue:
    """The statement browser: filters, a page at a time, newest first."""
    _require_admin()
    args = request.args
    filters: dict[str, Any] = {}
    agent = args.get("agent", "").strip()
    if agent:
        filters["agent"] = agent if ":" in agent else _accounts().key(agent)
    for name in ("verb", "activity"):
        value = args.get(name, "").strip()
        if value:
            if not syntax.is_iri(value):
                raise InvalidInput(f"{name} must be an IRI")
            filters[name] = value
    for name in ("since", "until"):
        value = args.get(name, "").strip()
        if value:
            if not syntax.is_timestamp(value, offset_required=False):
                raise InvalidInput(f"{name} must be an ISO 8601 time (2026-09-01T08:00:00Z)")
            filters[f"{name}_us"] = to_us(syntax.parse_timestamp(value))
    after = args.get("after", "")
    if after:
        stored, _, statement_id = after.partition(":")
        if not _STORED_US(stored) or int(stored) >= 2**63 or not syntax.is_uuid(statement_id):
            raise InvalidInput("after is not a place in the list (stored time:statement id)")
        filters["after"] = (int(stored), statement_id)
    query = StatementQuery(**filters, limit=STATEMENTS_PER_PAGE + 1)
    records = _storage().statements.query(query)
    more = None
    if len(records) > STATEMENTS_PER_PAGE:
        records = records[:STATEMENTS_PER_PAGE]
        more = f"{records[-1].stored_us}:{records[-1].id}"
    now = _now()
    rows = [
        {
            "id": record.id,
            "stored": f"{from_us(record.stored_us):%Y-%m-%d %H:%M:%S}",
            "ago": words.ago(from_us(record.stored_us), now),
            "words": words.sentence(orjson.loads(record.text), _accounts()),
        }
        for record in records
    ]
    kept = {name: args.get(name, "") for name in ("agent", "verb", "activity", "since", "until")}
    return render_template("statements.html", rows=rows, more=more, kept=kept)


@blp.route("/admin/statements/<statement_id>")
def admin_statement(statement_id: str) -> ResponseReturnValue:
    """One statement's JSON."""
    _require_admin()
    record = _storage().statements.get(statement_id.lower())
    if record is None:
        abort(404, f"no statement {statement_id}")
    text = orjson.dumps(orjson.loads(record.text), option=orjson.OPT_INDENT_2).decode()
    return render_template("statement.html", record=record, text=text, voided=record.voided)
