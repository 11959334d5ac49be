"""The dashboard: pages for coaches, learners and admins at ``/dashboard`` (docs/dashboard.md).

Server-rendered with Jinja2 templates and one stylesheet; no script runs in
its pages and nothing loads from another site. People sign in with a
credential's key and secret; the session is a signed cookie (``HttpOnly``,
``SameSite=Lax``, ``Secure`` when the request came over HTTPS) naming the
credential, whose access is checked again on every page by the one policy
(``lrs.credentials.access``). Every form carries a CSRF token (Flask-WTF).
"""

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from lrs.usecases.storage import Storage


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies that are ``Secure`` exactly when the request came over HTTPS."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session; an empty one, made at once, when it sends no cookie.

        Flask opens a session for every request: outside the dashboard (the
        cookie's path) no cookie comes, and building the cookie's signer
        anyway cost xAPI requests about 2% of their time.
        """
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import request

        current: Request = request
        return bool(current.is_secure)


def install(app: Flask, storage: Storage) -> None:
    """Serve the dashboard: its signing key, cookie settings, and its blueprint.

    The signing key is ``LRS_SECRET_KEY``, else one made once and kept by the
    storage (``ErasureStore.secret``), so that every worker and every restart
    share it.
    """
    # The pages register themselves on the blueprint as they are imported.
    from lrs.web import admin, courses, learners  # noqa: F401
    from lrs.web.views import blp

    configured = app.config.get("SECRET_KEY")
    if not configured:
        app.config["SECRET_KEY"] = storage.erasures.secret("dashboard-key")
    app.config.update(
        SESSION_COOKIE_NAME="lrs_dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/dashboard",
        # The forms check their token themselves (lrs.web.views.check_csrf).
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = _SessionInterface()
    app.register_blueprint(blp)
