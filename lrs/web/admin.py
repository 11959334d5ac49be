"""An admin's pages: credentials, users and enrollments, the statement browser."""

from typing import Any

import orjson
from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lrs.clock import from_us, to_us
from lrs.credentials.base import Role
from lrs.enrollments.base import MODES, CourseRole
from lrs.exceptions import Conflict, DoesNotExist, InvalidInput
from lrs.patterns import Whole
from lrs.usecases import people
from lrs.usecases.credentials import create_credential
from lrs.web import words
from lrs.web.views import access, accounts, actor, assignments, blp, now, storage
from lrs.xapi import syntax
from lrs.xapi.statements.base import StatementQuery

#: Statements a page of the statement browser shows.
STATEMENTS_PER_PAGE = 50


@blp.route("/admin/credentials", methods=["GET", "POST"])
def admin_credentials() -> ResponseReturnValue:
    """Credentials: the list, and a new one (its secret shown once)."""
    access().require_admin()
    created = None
    error = None
    if request.method == "POST":
        role = request.form.get("role", "")
        username = request.form.get("username", "").strip() or None
        name = request.form.get("name", "").strip()
        unknown = request.form.get("allow_unknown_user") == "yes"
        try:
            credential, secret = create_credential(
                storage(), role, username=username, name=name, allow_unknown_user=unknown
            )
            created = {"key": credential.key, "secret": secret, "role": credential.role}
        except InvalidInput as exc:
            error = str(exc)
    listed = storage().credentials.list(include_revoked=True)
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
    access().require_admin()
    credential = storage().credentials.get(key)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        storage().credentials.revoke(key)
        return redirect(url_for("web.admin_credentials"))
    return render_template("revoke.html", credential=credential)


@blp.route("/admin/users", methods=["GET", "POST"])
def admin_users() -> ResponseReturnValue:
    """Users and their enrollments, found by part of a username, e-mail address or name.

    Its forms create a user, and enroll a user in a course with a course
    role (again: the role changes, or an inactive enrollment comes back).
    """
    access().require_admin()
    done, error = None, None
    if request.method == "POST":
        try:
            done = _change_people(request.form)
        except (InvalidInput, DoesNotExist, Conflict) as exc:
            error = str(exc)
    wanted = (request.args.get("q", "") or request.form.get("username", "")).strip().lower()
    found = []
    if wanted:
        for user in storage().enrollments.list_users():
            text = f"{user.username} {user.email} {user.full_name}".lower()
            if wanted in text:
                enrollments = list(storage().enrollments.list_enrollments(username=user.username))
                found.append((user, enrollments))
                if len(found) >= 100:
                    break
    page = render_template(
        "users.html",
        q=request.args.get("q", ""),
        found=found,
        done=done,
        error=error,
        form=request.form if error else {},
        roles=[role.value for role in CourseRole],
        modes=sorted(MODES),
    )
    return page, 400 if error else 201 if done else 200


def _change_people(form: Any) -> str:
    """Do what the users page's form asks: create a user, or enroll one; say what was done."""
    username = form.get("username", "").strip()
    if form.get("action") == "create":
        fields = {
            "email": form.get("email", "").strip(),
            "full_name": form.get("full_name", "").strip(),
        }
        people.create_user(storage(), assignments(), username, fields, actor=actor())
        return f"Created user {username}."
    if form.get("action") == "enroll":
        course_key = form.get("course_key", "").strip()
        role = form.get("role", "") or None
        mode = form.get("mode", "") or None
        enrollment, outcome = people.enroll(
            storage(), assignments(), username, course_key, mode=mode, role=role, actor=actor()
        )
        changed = ""
        if role is not None and enrollment.role != role:
            enrollment = storage().enrollments.update_enrollment(
                username, course_key, role=CourseRole(role), actor=actor()
            )
            changed = ", role changed"
        return f"{username} in {course_key} as {enrollment.role}: {outcome.value}{changed}."
    raise InvalidInput("the form names no action (create or enroll)")


_STORED_US = Whole(r"[0-9]{1,19}")


@blp.route("/admin/statements")
def admin_statements() -> ResponseReturnValue:
    """The statement browser: filters, a page at a time, newest first."""
    access().require_admin()
    args = request.args
    filters: dict[str, Any] = {}
    agent = args.get("agent", "").strip()
    if agent:
        filters["agent"] = agent if ":" in agent else accounts().key(agent)
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
    records = storage().statements.query(query)
    more = None
    if len(records) > STATEMENTS_PER_PAGE:
        records = records[:STATEMENTS_PER_PAGE]
        more = f"{records[-1].stored_us}:{records[-1].id}"
    moment = now()
    rows = [
        {
            "id": record.id,
            "stored": f"{from_us(record.stored_us):%Y-%m-%d %H:%M:%S}",
            "ago": words.ago(from_us(record.stored_us), moment),
            "words": words.sentence(orjson.loads(record.text), accounts()),
        }
        for record in records
    ]
    kept = {name: args.get(name, "") for name in ("agent", "verb", "activity", "since", "until")}
    return render_template("statements.html", rows=rows, more=more, kept=kept)


@blp.route("/admin/statements/<statement_id>")
def admin_statement(statement_id: str) -> ResponseReturnValue:
    """One statement's JSON."""
    access().require_admin()
    record = storage().statements.get(statement_id.lower())
    if record is None:
        abort(404, f"no statement {statement_id}")
    text = orjson.dumps(orjson.loads(record.text), option=orjson.OPT_INDENT_2).decode()
    return render_template("statement.html", record=record, text=text, voided=record.voided)


@blp.route("/admin/forwarding", methods=["GET", "POST"])
def admin_forwarding() -> ResponseReturnValue:
    """Forwarding: every target and source with its status; forms add, pause, resume, retry."""
    from lrs.usecases import forwarding

    access().require_admin()
    done, error = None, None
    if request.method == "POST":
        try:
            done = _change_forwarding(request.form)
        except (InvalidInput, DoesNotExist) as exc:
            error = str(exc)
    rows = [forwarding.status(storage(), target.id) for target in storage().forwarding.targets()]
    page = render_template(
        "forwarding.html",
        rows=rows,
        done=done,
        error=error,
        form=request.form if error else {},
        time=from_us,
    )
    return page, 400 if error else 201 if done and done.startswith("Added") else 200


def _change_forwarding(form: Any) -> str:
    """Do what the forwarding page's form asks; say what was done."""
    from lrs.usecases import forwarding

    action, target_id = form.get("action", ""), form.get("target", "")
    if action == "add":
        auth = f"{form.get('key', '').strip()}:{form.get('secret', '')}"
        url = form.get("url", "").strip()
        if form.get("direction") == "pull":
            made = forwarding.add_source(storage(), url, auth, version=form.get("version", "1.0.3"))
        else:
            made = forwarding.add_target(
                storage(),
                url,
                auth,
                version=form.get("version", "1.0.3"),
                from_start=form.get("from_start") == "yes",
            )
        return f"Added {made.id} ({made.direction}) for {made.url}."
    if action in ("pause", "resume"):
        forwarding.set_state(storage(), target_id, "paused" if action == "pause" else "active")
        return f"{target_id}: {'paused' if action == 'pause' else 'resumed'}."
    if action == "retry-dead":
        with forwarding.Sender(storage()) as sender:
            delivered, still = sender.retry_dead(target_id)
        return f"{target_id}: {delivered} delivered, {still} still refused."
    if action == "remove" and form.get("confirm") == "yes":
        storage().forwarding.remove(target_id)
        return f"Removed {target_id}."
    raise InvalidInput("the form names no action this page does (or a removal not confirmed)")
