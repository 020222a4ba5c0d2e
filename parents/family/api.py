"""The family JSON API under /api/v1: a guardian's children, invite codes and redeeming them,
the school's confirmation (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import fields

from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Choice, Out, RowId, Text, When
from elearn.extensions import db, rate_limit
from elearn.models import Role
from elearn.service.errors import NotFound
from parents.family import queries, service
from parents.family.limits import redeem_key, redeem_limit
from parents.family.models import GuardianInvite

bp = ApiBlueprint(
    "family_api", __name__, url_prefix="/api/v1", description="guardians and their children"
)
bp.before_request(protect_cookie_sessions)


class ChildCourse(Out):
    course_id = fields.Integer()
    title = fields.String()
    lessons = fields.Integer(metadata={"description": "live lessons in the course"})
    completed_lessons = fields.Integer()
    completed = fields.Boolean()


class ChildAssessment(Out):
    quiz_id = fields.Integer()
    title = fields.String()
    kind = fields.String(metadata={"description": "quiz or exam"})
    term = fields.String()
    finished_at = When()
    result_shown = fields.Boolean(
        metadata={"description": "false while the quiz's review policy hides the result"}
    )
    score = fields.Float(allow_none=True)
    max_score = fields.Float(allow_none=True)
    passed = fields.Boolean(allow_none=True)


class ChildDueQuiz(Out):
    quiz_id = fields.Integer()
    title = fields.String()
    closes_at = When(allow_none=True)
    done = fields.Boolean(metadata={"description": "the child has finished an attempt"})


class ChildAgendaItem(Out):
    kind = fields.String()
    title = fields.String()
    starts_at = When()


class ChildAnnouncement(Out):
    id = fields.Integer()
    title = fields.String()
    created_at = When()


class Child(Out):
    id = fields.Integer()
    name = fields.String()
    relation = fields.String()
    school = fields.String()
    class_ = fields.String(data_key="class", attribute="class")
    courses = fields.List(fields.Nested(ChildCourse))
    assessments = fields.List(fields.Nested(ChildAssessment))
    due_quizzes = fields.List(fields.Nested(ChildDueQuiz))
    upcoming = fields.List(fields.Nested(ChildAgendaItem))
    announcements = fields.List(fields.Nested(ChildAnnouncement))


class InviteCreate(Body):
    student_id = RowId(required=True)
    phone = Text(
        20,
        allow_none=True,
        metadata={"description": "the guardian's phone: a redeemer with it is linked at once"},
    )


class InviteCreated(Out):
    code = fields.String(metadata={"description": "shown once: only its hash is kept"})
    expires_at = When()
    link_url = fields.String(metadata={"description": "the redeeming page, for a QR"})


class InviteRedeem(Body):
    code = Text(32, required=True)
    child_name = Text(64, required=True)
    relation = Choice(list(service.RELATIONS), required=True)


class InviteRedeemed(Out):
    status = Choice(["pending", "linked"])
    student_id = fields.Integer()


class InviteDecision(Body):
    decision = Choice(["confirm", "refuse"], required=True)


class InviteRequest(Out):
    id = fields.Integer()
    student_id = fields.Integer()
    student_name = fields.String()
    guardian_id = fields.Integer()
    guardian_name = fields.String()
    relation = fields.String()
    status = fields.String()
    redeemed_at = When(allow_none=True)


def _request_json(invite: GuardianInvite) -> dict[str, Any]:
    return {
        "id": invite.id,
        "student_id": invite.student_id,
        "student_name": invite.student.display_name,
        "guardian_id": invite.guardian_id,
        "guardian_name": invite.guardian.display_name if invite.guardian else "",
        "relation": invite.relation or "",
        "status": invite.status,
        "redeemed_at": invite.redeemed_at,
    }


@bp.route("/me/children", tags=["family"])
@login_required
@bp.response(200, Child(many=True))
@refuses(401)
def my_children() -> list[dict[str, Any]]:
    """The signed-in guardian's linked children, each with their course progress (per course),
    results as each quiz's review policy allows, due quizzes, coming lectures and the school's
    announcements. Anyone else gets an empty list."""
    now = datetime.now(UTC)
    return [
        queries.child_json(queries.child_view(current_user, child, relation, now, lessons=False))
        for child, relation in queries.children(current_user)
    ]


@bp.route("/guardian-invites", methods=["POST"], tags=["family"])
@login_required
@bp.arguments(InviteCreate)
@bp.response(201, InviteCreated)
@refuses(400, 401, 404)
def create_invite(body: dict[str, Any]) -> dict[str, Any]:
    """A one-use invite code for a guardian of a student in your classes (a teacher of the
    class, or an admin over it), valid 7 days. 404: not a student of yours."""
    student, _klass = service.managed_student(current_user, body["student_id"])
    issued = service.issue_invite(actor=current_user, student=student, phone=body.get("phone"))
    return {
        "code": issued.display,
        "expires_at": issued.invite.expires_at,
        "link_url": url_for("family.link", code=issued.display, _external=True),
    }


@bp.route("/guardian-invites/redeem", methods=["POST"], tags=["family"])
@login_required
@rate_limit(redeem_limit, key_func=redeem_key)
@bp.arguments(InviteRedeem)
@bp.response(200, InviteRedeemed)
@refuses(400, 401, 403, 404, 409, 410, 429)
def redeem(body: dict[str, Any]) -> dict[str, Any]:
    """A signed-in guardian redeems a code with the child's name and their relation: linked at
    once when their phone is one the school has for the child, else pending the school's
    confirmation. 404: unknown code; 410: expired; 409: used, or the child is linked already;
    400: the name does not match (the code stays usable); 429: too many tries."""
    invite = service.redeem(
        actor=current_user,
        code=body["code"],
        child_name=body["child_name"],
        relation=body["relation"],
    )
    return {"status": invite.status, "student_id": invite.student_id}


@bp.route("/guardian-invites/requests", tags=["family"])
@login_required
@bp.response(200, InviteRequest(many=True))
@refuses(401)
def requests_pending() -> list[dict[str, Any]]:
    """Redeemed codes waiting for your confirmation (teachers and admins of the classes)."""
    if not current_user.has_role(Role.TEACHER, *queries.MANAGING_ROLES):
        return []
    return [_request_json(invite) for invite in queries.pending_requests(current_user)]


@bp.route("/guardian-invites/<int:invite_id>/decision", methods=["POST"], tags=["family"])
@login_required
@bp.arguments(InviteDecision)
@bp.response(200, InviteRequest)
@refuses(400, 401, 404, 409)
def decide(body: dict[str, Any], invite_id: int) -> dict[str, Any]:
    """Confirm (link) or refuse a pending request. 409: decided already."""
    invite = db.session.get(GuardianInvite, invite_id)
    if invite is None or not service.may_manage(current_user, invite.unit):
        raise NotFound(_("There is no such request."))
    service.decide(actor=current_user, invite=invite, approve=body["decision"] == "confirm")
    return _request_json(invite)
