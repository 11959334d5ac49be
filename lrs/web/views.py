"""The dashboard's blueprint, signing in, errors, and what every page uses.

The pages are in ``lrs.web.courses`` (a coach's), ``lrs.web.learners`` and
``lrs.web.admin``. Who sees what is ``lrs.credentials.access``'s policy,
asked by each page; what a page shows comes from the use-case floor.
"""

from datetime import datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
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

from lrs.clock import default_clock, from_us
from lrs.credentials.access import Access
from lrs.exceptions import DoesNotExist, InvalidInput, PermissionDenied, UserStateError
from lrs.patterns import Whole
from lrs.usecases.assignments import Assignments
from lrs.usecases.names import Names
from lrs.usecases.storage import Storage
from lrs.xapi.agents import AccountAgents

blp = Blueprint(
    "web",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)


def storage() -> Storage:
    """The stores."""
    found: Storage = current_app.extensions["lrs"]
    return found


def accounts() -> AccountAgents:
    """Agent keys of this LRS's users, and back."""
    found: AccountAgents = current_app.extensions["lrs-accounts"]
    return found


def assignments() -> Assignments:
    """The assignments use case."""
    found: Assignments = current_app.extensions["lrs-assignments"]
    return found


def access() -> Access:
    """What the signed-in credential may see and do."""
    found: Access = g.access
    return found


def names() -> Names:
    """Names for what people read, looked up once per page."""
    found: Names | None = g.get("names")
    if found is None:
        found = g.names = Names(storage().activities, storage().enrollments, accounts())
    return found


def actor() -> str:
    """Who made a change from the dashboard: the signed-in credential's key."""
    return str(g.person.key)


def now() -> datetime:
    """The time now (the LRS's clock)."""
    return from_us(default_clock.now_us())


_NUMBER = Whole(r"[0-9]{1,9}")


def integer(name: str, default: int) -> int:
    """A whole number from the query, else ``default``."""
    value = request.args.get(name, "")
    return int(value) if _NUMBER(value) else default


# -- signing in ------------------------------------------------------------------


@blp.before_request
def load_person() -> ResponseReturnValue | None:
    """Find who is signed in; send anyone else to the sign-in page; check forms' tokens."""
    g.person = None
    # The cookie holds a session's token, which the store finds until sign-out
    # (a copy of the cookie then finds nothing), and the credential is read
    # again: revoked since, signed out.
    key = storage().credentials.session_key(session.get("session"))
    if key is None:
        if "session" in session:
            del session["session"]  # over: signed out, or past its end
    else:
        try:
            credential = storage().credentials.get(key)
        except DoesNotExist:
            credential = None
        if credential is not None and credential.active:
            g.person = credential
            g.access = Access(credential, storage().enrollments, accounts())
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
    credential = storage().credentials.authenticate(key, secret)
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
    session["session"] = storage().credentials.open_session(credential.key)
    return redirect(_safe_next(request.form.get("next")))


@blp.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    """Sign out: the session ends on the server, so a copy of its cookie is worth nothing."""
    storage().credentials.close_session(session.get("session"))
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


def visible_courses() -> list[str]:
    """The courses the person sees: those they coach, or every course for an admin."""
    courses = access().visible_courses()
    if courses is None:
        return sorted({item.course_key for item in storage().enrollments.list_enrollments()})
    return sorted(courses)


# -- pages --------------------------------------------------------------------------


@blp.route("/")
def home() -> ResponseReturnValue:
    """A learner's own page, or the courses."""
    granted = access()
    if granted.own_learner is not None:
        return redirect(url_for("web.learner", username=granted.own_learner))
    if granted.is_admin and not visible_courses():
        return redirect(url_for("web.admin_credentials"))
    return redirect(url_for("web.courses"))
