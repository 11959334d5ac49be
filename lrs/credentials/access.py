"""Who may do what: the one access policy, for every resource, without a web framework.

The roles (``Role``) are ``admin`` (everything, credentials included),
``service`` (an application: any learner's data), ``coach`` (reads the data of
the learners enrolled in the courses where its user is coach or staff) and
``learner`` (its own data only). Views build an ``Access`` for the request's
credential and ask it; a refusal is ``PermissionDenied`` (403), and each
message says what the role may do instead. A new role or resource touches
this module only.

A coach's reach is read from the enrollment store when first needed, once per
``Access``: its courses, and the learners actively enrolled in them.
"""

from collections.abc import Iterable
from functools import cached_property

from lrs.clients.base import block_location
from lrs.credentials.base import Credential, Role
from lrs.enrollments.base import EnrollmentStore
from lrs.exceptions import PermissionDenied
from lrs.xapi.agents import AccountAgents
from lrs.xapi.documents import Context, Resource

# Roles that reach every learner's data.
_ANY_LEARNER = (Role.admin, Role.service)


class Access:
    """What one credential may do."""

    def __init__(
        self, credential: Credential, enrollments: EnrollmentStore, accounts: AccountAgents
    ) -> None:
        """The policy for ``credential``; ``enrollments`` give a coach its courses."""
        self.credential = credential
        self.enrollments = enrollments
        self.accounts = accounts

    @property
    def role(self) -> Role:
        """The credential's role."""
        return self.credential.role

    @property
    def reaches_every_learner(self) -> bool:
        """Whether the credential reads and writes any learner's data (admin, service)."""
        return self.role in _ANY_LEARNER

    # -- what a coach reaches --------------------------------------------------

    @cached_property
    def coached_courses(self) -> frozenset[str]:
        """The courses where the credential's user is actively enrolled as coach or staff."""
        if self.role != Role.coach or self.credential.username is None:
            return frozenset()
        return self.enrollments.coached_courses(self.credential.username)

    def learners_of(self, course: str | None) -> frozenset[str]:
        """The learners actively enrolled in ``course``."""
        return frozenset(
            enrollment.username
            for enrollment in self.enrollments.list_enrollments(course_key=course, is_active=True)
        )

    def learner_keys(self, course: str | None) -> frozenset[str]:
        """The agent keys of the learners actively enrolled in ``course`` (progress is by key)."""
        return frozenset(self.accounts.key(name) for name in self.learners_of(course))

    @cached_property
    def coached_learners(self) -> frozenset[str]:
        """The learners actively enrolled in the courses the credential coaches."""
        return frozenset(
            username for course in self.coached_courses for username in self.learners_of(course)
        )

    def _courses_of(self, username: str) -> frozenset[str]:
        return frozenset(
            enrollment.course_key
            for enrollment in self.enrollments.list_enrollments(username=username, is_active=True)
        )

    # -- credentials, users and enrollments ------------------------------------

    def require_admin(self) -> None:
        """Refuse unless the credential is an admin's (credentials, for one)."""
        if self.role != Role.admin:
            raise PermissionDenied("only admin credentials may do this")

    def require_manager(self) -> None:
        """Refuse unless the credential may manage users and enrollments (admin, service)."""
        if not self.reaches_every_learner:
            raise PermissionDenied(
                "only admin or service credentials may manage users and enrollments"
            )

    def require_enrollment_reader(self, username: str | None, course_key: str | None) -> None:
        """Refuse unless the credential may read these users' enrollments and their history.

        A learner reads its own (naming itself), a coach those of the courses it
        coaches (naming the course).
        """
        if self.reaches_every_learner:
            return
        if self.role == Role.learner and username is not None:
            if username == self.credential.username:
                return
        if self.role == Role.coach and course_key is not None:
            if course_key in self.coached_courses:
                return
        raise PermissionDenied(
            "learner credentials read their own enrollments (give username); coach credentials "
            "those of the courses they coach (give course_key)"
        )

    @property
    def sees_credential_keys(self) -> bool:
        """Whether change records show which credential acted (else only its role)."""
        return self.reaches_every_learner

    # -- learner state -----------------------------------------------------------

    def require_learner_state(
        self, username: str, blocks: Iterable[object] = (), *, write: bool
    ) -> None:
        """Refuse unless the credential may read (or write) ``username``'s state of ``blocks``.

        A learner uses its own; a coach reads the blocks of the courses it
        coaches, of the learners enrolled in them, and writes nothing.
        """
        if self.reaches_every_learner:
            return
        if self.role == Role.learner:
            if username == self.credential.username:
                return
            raise PermissionDenied(
                f"a learner credential may touch only its own data ({self.credential.username!r})"
            )
        wanted = list(blocks)
        if self.role == Role.coach and not write and wanted:
            courses = self.coached_courses & self._courses_of(username)
            if all(block_location(block)[0] in courses for block in wanted):
                return
        raise PermissionDenied(
            "a coach credential may read only the blocks of learners enrolled in courses it coaches"
        )

    def require_course(self, course: str | None) -> None:
        """Refuse unless the credential reaches every learner of ``course``.

        Their state, progress and exports, and the course's assignments:
        admin and service credentials, and the course's coaches.
        """
        if self.reaches_every_learner:
            return
        if self.role == Role.coach and course in self.coached_courses:
            return
        raise PermissionDenied("only admin, service or the course's coach credentials may do this")

    # -- who the credential is, for the pages -----------------------------------------

    @property
    def is_admin(self) -> bool:
        """Whether the credential is an admin's (credentials, users, the statement browser)."""
        return self.role == Role.admin

    @property
    def own_learner(self) -> str | None:
        """The username a learner credential acts for (its own data only); else ``None``."""
        return self.credential.username if self.role == Role.learner else None

    def visible_courses(self) -> frozenset[str] | None:
        """The courses whose pages the credential sees (``None``: every course).

        Raises:
            PermissionDenied: a learner credential (it sees its own page).
        """
        if self.reaches_every_learner:
            return None
        if self.role == Role.coach:
            return self.coached_courses
        raise PermissionDenied("coaches and admins see courses; learners their own page")

    # -- progress, and a learner's records -------------------------------------------

    def progress_scope(
        self, learner: str | None, *, by_agent: bool, course: str | None
    ) -> tuple[str | None, frozenset[str] | None]:
        """Whose progress records a query reads: the learner asked for, and those it may see.

        Args:
            learner: the agent key asked for (``None``: every learner).
            by_agent: the query named the learner by agent key, not username.
            course: the course the query names, if any.

        Returns:
            The learner to read (a learner credential's own key), and the
            agent keys whose records it may see (``None``: all).

        Raises:
            PermissionDenied: the credential may not read what it asks for.
        """
        if self.reaches_every_learner:
            return learner, None
        if by_agent:
            raise PermissionDenied("only admin and service credentials name learners by agent")
        if self.role == Role.learner:
            own = self.accounts.key(str(self.credential.username))
            if learner not in (None, own):
                raise PermissionDenied("a learner credential reads only its own progress")
            return own, None
        return learner, self.course_learners(course)

    def export_scope(self, progress: bool, course: str | None) -> frozenset[str] | None:
        """The learners (agent keys) an export is limited to (``None``: every learner).

        Admin and service credentials, which reach every learner's data,
        export every kind; a coach the progress records (``progress``) of a
        course it coaches, of its learners (``course_learners``).

        Raises:
            PermissionDenied: anyone else, or a coach asking for another kind or course.
        """
        if self.reaches_every_learner:
            return None
        if progress:
            return self.course_learners(course)
        raise PermissionDenied(
            "only admin and service credentials export this; coach credentials export the "
            "progress records (summaries, sessions, attempts, exams) of the courses they coach"
        )

    # -- assignments ----------------------------------------------------------------------

    def require_assignment_reader(self, username: str | None, course: str | None) -> None:
        """Refuse unless the credential may read an assignment of ``username`` in ``course``.

        Its learner reads it; otherwise who manages the course's assignments
        (``require_course``).
        """
        if self.role == Role.learner:
            if username is None or username != self.credential.username:
                raise PermissionDenied("a learner credential reads only its own assignments")
            return
        self.require_course(course)

    def assignment_list_scope(self, username: str | None, course: str | None) -> str | None:
        """The learner an assignment list is limited to (``None``: whoever ``course`` holds).

        A learner credential lists its own; others the assignments of a course
        they manage (``require_course``).

        Raises:
            PermissionDenied: a learner naming another, or a course the credential does not manage.
        """
        if self.role == Role.learner:
            own = self.credential.username
            if username not in (None, own):
                raise PermissionDenied("a learner credential lists only its own assignments")
            return own
        self.require_course(course)
        return username

    def require_assigner(self) -> None:
        """Refuse unless the credential assigns content (admin, service, coach)."""
        if not self.reaches_every_learner and self.role != Role.coach:
            raise PermissionDenied("admin, service and coach credentials assign content")

    # -- progress, and a learner's records -------------------------------------------

    def course_learners(self, course: str | None) -> frozenset[str] | None:
        """The learners (agent keys) whose records of ``course`` the credential reads.

        The coach scope of the progress API, of exports and of the
        dashboard's course pages: admin and service credentials read every
        learner's (``None``); a coach the learners actively enrolled in a
        course it coaches, which it must name. Records outside ``course``
        stay out of its reach (see ``record_courses``).

        Raises:
            PermissionDenied: a learner credential, or a coach that names no
                course it coaches.
        """
        if self.reaches_every_learner:
            return None
        if self.role == Role.coach and course is not None and course in self.coached_courses:
            return self.learner_keys(course)
        raise PermissionDenied(
            "coach credentials read the progress of a course they coach (give course_key)"
        )

    def record_courses(self, username: str) -> frozenset[str] | None:
        """The courses in which the credential reads ``username``'s records (``None``: all).

        The same rule as ``course_learners``, seen from one learner: admin and
        service credentials, and the learner itself, read all of their
        records; a coach those of the courses it coaches where the learner is
        actively enrolled, and nothing of their other courses.

        Raises:
            PermissionDenied: the credential reads none of them.
        """
        if self.reaches_every_learner:
            return None
        if self.role == Role.learner and username == self.credential.username:
            return None
        if self.role == Role.coach:
            courses = self.coached_courses & self._courses_of(username)
            if courses:
                return courses
        raise PermissionDenied(
            "you may see your own records, or those of the learners you coach in your courses"
        )

    def visible_learners(self, course: str | None) -> frozenset[str] | None:
        """The learners whose state in ``course`` the credential sees (``None``: all)."""
        if self.role != Role.coach:
            return None
        return self.learners_of(course)

    # -- statements ----------------------------------------------------------------

    def statement_actor(self) -> str | None:
        """The only actor whose statements the credential may store (``None``: any).

        Raises:
            PermissionDenied: the credential may store no statement (a coach).
        """
        if self.reaches_every_learner:
            return None
        if self.role == Role.learner:
            return self.accounts.key(str(self.credential.username))
        raise PermissionDenied("coach credentials read statements; they may not store them")

    def statement_readers(self) -> frozenset[str] | None:
        """The actors whose statements the credential may read (``None``: every statement).

        A learner reads the statements whose actor is its own account agent; a
        coach those whose actor is a learner of a course it coaches. A statement
        that only mentions them (instructor, object, group member) is not theirs.
        """
        if self.reaches_every_learner:
            return None
        if self.role == Role.learner:
            return frozenset({self.accounts.key(str(self.credential.username))})
        return frozenset(self.accounts.key(name) for name in self.coached_learners)

    # -- documents and agents ----------------------------------------------------------

    def require_document(self, context: Context, *, write: bool) -> None:
        """Refuse unless the credential may read (or write) the documents of ``context``.

        Admin and service credentials use every document; a learner those of
        its own account agent, and reads activity profiles; a coach reads the
        state documents that are blocks of its courses' enrolled learners.
        """
        if self.reaches_every_learner:
            return
        if self.role == Role.coach:
            learner = self.accounts.username(context.agent)
            if write or context.resource != Resource.state or learner is None:
                raise PermissionDenied(
                    "coach credentials read only the state of their courses' learners"
                )
            self.require_learner_state(learner, [context.activity_id], write=False)
            return
        if context.resource == Resource.activity_profile:
            if write:
                raise PermissionDenied(
                    "learner credentials may read activity profiles, not write them"
                )
            return
        if context.agent != self.accounts.key(str(self.credential.username)):
            raise PermissionDenied(
                "a learner credential may use only the documents of its own account agent "
                "(homePage LRS_ACCOUNT_HOMEPAGE, name its username)"
            )

    def require_agent_lookup(self, agent_key: str | None) -> None:
        """Refuse unless the credential may look this agent up (a learner: only itself)."""
        if self.role == Role.learner and agent_key != self.accounts.key(
            str(self.credential.username)
        ):
            raise PermissionDenied("a learner credential may look up only its own agent")

    @property
    def sees_user_records(self) -> bool:
        """Whether an agent's lookup adds its user's full name and email.

        Section 2.4 reserves a second identifier for privileged credentials:
        admin and service credentials, and a learner for itself; not coaches.
        """
        return self.role != Role.coach
