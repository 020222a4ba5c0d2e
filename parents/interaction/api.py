"""Messages' JSON API under /api/v1 (documented in /api/v1/openapi.json): conversations, their
messages, read receipts, reports, recall, blocking, and the reviewer's held messages."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import fields, validate
from sqlalchemy import select

from elearn import permissions
from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Choice, Out, Query, RowId, Text, When
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.models._types import BIGINT_MAX
from elearn.models.accounts import ADMIN_ROLES
from elearn.service.errors import NotFound
from parents.interaction import attachments, delivery, queries, rules, safety, service
from parents.interaction.models import (
    MAX_TEXT,
    MAX_TITLE,
    Conversation,
    ConversationKind,
    Message,
    MessageStatus,
)

STATUSES = [s.value for s in MessageStatus]

bp = ApiBlueprint("interaction_api", __name__, url_prefix="/api/v1", description="messages")
bp.before_request(protect_cookie_sessions)

TAGS = ["messages"]


class ConversationCreate(Body):
    ONE_OF = ("participant_ids", "class_id")
    ONE_OF_MESSAGE = _l("Name the participants, or a class whose guardians you write to.")

    participant_ids = fields.List(
        RowId(),
        validate=validate.Length(min=1, max=service.MAX_GROUP),
        metadata={"description": "one person (a direct conversation) or a small group"},
    )
    class_id = RowId(
        metadata={
            "description": "write to every guardian of this class (its teacher or school "
            "admin); each guardian's reply is a private thread back"
        }
    )
    title = Text(MAX_TITLE, min_length=1, allow_none=True)


class MessagingCreated(Out):
    id = fields.Integer()


class ConversationMemberOut(Out):
    id = fields.Integer()
    name = fields.String()
    last_delivered_message_id = fields.Integer(
        metadata={"description": "their device has the messages up to this id (0: none)"}
    )
    last_read_message_id = fields.Integer(
        metadata={"description": "they have read the messages up to this id (0: none)"}
    )


class ConversationOut(Out):
    id = fields.Integer()
    kind = Choice([k.value for k in ConversationKind])
    title = fields.String(allow_none=True)
    unit_id = fields.Integer(metadata={"description": "its scope: a school, or an admin's unit"})
    class_id = fields.Integer(allow_none=True)
    reply_to_id = fields.Integer(
        allow_none=True, metadata={"description": "the class broadcast this thread answers"}
    )
    created_by_id = fields.Integer()
    members = fields.List(fields.Nested(ConversationMemberOut))
    unread = fields.Integer(metadata={"description": "delivered messages from others not read"})
    last_message_at = When(allow_none=True)
    as_guardian = fields.Boolean(
        metadata={"description": "read as a guardian of a student in it, not as a member"}
    )
    blocked = fields.Boolean(metadata={"description": "the caller blocked it"})


class ConversationInbox(Out):
    items = fields.List(fields.Nested(ConversationOut))
    unread = fields.Integer()


class AttachmentOut(Out):
    kind = Choice(["image", "audio", "document"])
    name = fields.String(metadata={"description": "the file's name as uploaded (display only)"})
    url = fields.String(
        allow_none=True,
        metadata={
            "description": "signed, expires in minutes (ELEARN_MEDIA_PLAYBACK_MINUTES): the "
            "picture's web copy, the voice recording as AAC in MP4, the file's download"
        },
    )
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    duration = fields.Float(allow_none=True, metadata={"description": "seconds (voice)"})
    pages = fields.Integer(allow_none=True)


class ConversationMessageOut(Out):
    id = fields.Integer()
    conversation_id = fields.Integer()
    sender_id = fields.Integer()
    sender_name = fields.String()
    text = fields.String(
        allow_none=True, metadata={"description": "null for a recalled message (but its sender's)"}
    )
    asset_id = fields.String(
        allow_none=True, metadata={"description": "its attachment's media asset (null if none)"}
    )
    attachment = fields.Nested(
        AttachmentOut,
        allow_none=True,
        metadata={"description": "null without one, and for a recalled one's recipients"},
    )
    status = Choice(STATUSES)
    automatic = fields.Boolean(
        metadata={"description": "an automatic reply of a recipient in their quiet hours"}
    )
    deliver_at = fields.String(
        allow_none=True,
        metadata={
            "format": "date-time",
            "description": "a waiting message's delivery, when the recipients' quiet hours end",
        },
    )
    created_at = fields.String(metadata={"format": "date-time"})


class ConversationMessages(Out):
    items = fields.List(fields.Nested(ConversationMessageOut))


class MessagesQuery(Query):
    after = fields.Integer(
        validate=validate.Range(min=0, max=2**63 - 1),
        load_default=0,
        metadata={"description": "only messages with a greater id (the last one you have)"},
    )


class MessageCreate(Body):
    ONE_OF = ("text", "asset_id")
    ONE_OF_MESSAGE = _l("Write a message first.")

    text = Text(MAX_TEXT, min_length=1)
    asset_id = Text(
        32,
        min_length=1,
        metadata={
            "description": "a picture, PDF/EPUB file or voice recording you uploaded "
            "(POST /api/v1/media/uploads with purpose attachment), ready, not sent before"
        },
    )


class MessagePosted(Out):
    id = fields.Integer()
    status = Choice(["delivered", "held", "waiting"])
    deliver_at = When(
        allow_none=True,
        metadata={"description": "waiting: delivered then, when the quiet hours end"},
    )
    conversation_id = fields.Integer(
        metadata={"description": "where it went (a reply to a class broadcast: its own thread)"}
    )


class MessageReadOut(Out):
    last_read_message_id = fields.Integer()
    unread = fields.Integer()


class MessageReportCreate(Body):
    reason = Text(500, metadata={"description": "what is wrong with it"})


class MessageStatusOut(Out):
    id = fields.Integer()
    status = Choice(STATUSES)


class DeliveredCreate(Body):
    message_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=BIGINT_MAX),
        metadata={"description": "the newest message your device has received"},
    )


class DeliveredOut(Out):
    last_delivered_message_id = fields.Integer()


class ConversationBlocked(Out):
    blocked = fields.Boolean()


def _conversation_out(row: queries.InboxRow, viewer: User) -> dict[str, Any]:
    conversation = row.conversation
    members = conversation.members
    if (
        conversation.kind == ConversationKind.CLASS_GUARDIANS
        and conversation.created_by_id != viewer.id
    ):
        # a guardian of a class broadcast sees its sender, not the other families
        members = [m for m in members if m.user_id in {viewer.id, conversation.created_by_id}]
    own = conversation.member(viewer)
    return {
        "id": conversation.id,
        "kind": conversation.kind,
        "title": conversation.title,
        "unit_id": conversation.unit_id,
        "class_id": conversation.class_id,
        "reply_to_id": conversation.reply_to_id,
        "created_by_id": conversation.created_by_id,
        "members": [
            {
                "id": m.user_id,
                "name": m.user.display_name,
                "last_delivered_message_id": m.last_delivered_message_id,
                "last_read_message_id": m.last_read_message_id,
            }
            for m in members
        ],
        "unread": row.unread,
        "last_message_at": conversation.last_message_at,
        "as_guardian": row.as_guardian,
        "blocked": bool(own and own.is_blocked),
    }


def _message_out(message: Message, viewer: User, conversation: Conversation) -> dict[str, Any]:
    reviewer = rules.is_reviewer(viewer, conversation)
    return delivery.payload(
        message, show_text=delivery.shows_text(message, viewer, is_reviewer=reviewer)
    )


def _participants(ids: list[int]) -> list[User]:
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    for user_id in ids:
        if user_id == current_user.id:
            continue  # the service says why naming only oneself is no conversation
        if user_id not in found or not rules.may_message(current_user, found[user_id]):
            # the same answer for nobody and for somebody out of reach: nothing leaks
            raise NotFound(_("You may not start a conversation with person %(id)d.", id=user_id))
    return [found[user_id] for user_id in ids if user_id in found]


@bp.route("/conversations", tags=TAGS)
@login_required
@bp.response(200, ConversationInbox)
@refuses(401)
def conversations() -> dict[str, Any]:
    """The caller's conversations, newest first, each with its unread count (a guardian's list
    holds their children's conversations too, ``as_guardian``)."""
    rows = queries.inbox(current_user)
    return {
        "items": [_conversation_out(row, current_user) for row in rows],
        "unread": service.unread_total(current_user),
    }


@bp.route("/conversations", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(ConversationCreate)
@bp.response(201, MessagingCreated)
@refuses(400, 401, 403, 404, 409)
def create_conversation(body: dict[str, Any]) -> dict[str, int]:
    """Start a conversation: with one person (the existing one, if any), a small group (every
    two members must be allowed to talk), or every guardian of a class (`class_id`). Who may
    message whom is the table of `parents.interaction.rules`; a refusal is a 403 or 404."""
    if "class_id" in body:
        klass = db.session.get(Unit, body["class_id"])
        if klass is None or not rules.may_broadcast(current_user, klass):
            raise NotFound(_("No such class within your reach."))
        made = service.start_class_broadcast(
            actor=current_user, klass=klass, title=body.get("title")
        )
    else:
        people = _participants(body["participant_ids"])
        made = service.start_conversation(
            actor=current_user, participants=people, title=body.get("title")
        )
    return {"id": made.id}


@bp.route("/conversations/<int:conversation_id>/messages", tags=TAGS)
@login_required
@bp.arguments(MessagesQuery, location="query")
@bp.response(200, ConversationMessages)
@refuses(401, 404)
def conversation_messages(args: dict[str, int], conversation_id: int) -> dict[str, Any]:
    """The conversation's messages after `after`, oldest first, at most 100 (page on with the
    last id). Held messages only for their sender and the reviewers; a recalled one without
    its text."""
    conversation = permissions.get_or_404(Conversation, conversation_id, current_user)
    found = queries.visible_messages(current_user, conversation, after=args["after"])
    if found and conversation.member(current_user) is not None:  # now on the caller's device
        service.mark_delivered(
            actor=current_user, conversation=conversation, message_id=found[-1].id
        )
    return {"items": [_message_out(m, current_user, conversation) for m in found]}


@bp.route("/conversations/<int:conversation_id>/delivered", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(DeliveredCreate)
@bp.response(200, DeliveredOut)
@refuses(401, 404)
def delivered(body: dict[str, Any], conversation_id: int) -> dict[str, int]:
    """Your device has the conversation's messages up to `message_id` (a delivery receipt: the
    senders get a `delivered` event). Never moves past what you may see, nor backwards."""
    conversation = permissions.get_or_404(Conversation, conversation_id, current_user, "post")
    mark = service.mark_delivered(
        actor=current_user, conversation=conversation, message_id=body["message_id"]
    )
    return {"last_delivered_message_id": mark}


@bp.route("/conversations/<int:conversation_id>/messages", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(MessageCreate)
@bp.response(201, MessagePosted)
@refuses(400, 401, 403, 404, 409, 413, 415)
def post_message(body: dict[str, Any], conversation_id: int) -> dict[str, Any]:
    """Send a message: text (at most 2,000 characters), an attachment (`asset_id`), or both;
    `delivered`; `held` for a school admin's review when it matches the prefecture's keyword
    list; or `waiting` until `deliver_at` when every recipient is staff in their quiet hours
    (you get their automatic reply).

    The attachment must be the caller's own upload, ready (409 while it is processing), a
    picture, PDF/EPUB file or voice recording (415 otherwise), within the role's attachment
    limit (413) and not sent before (409); a failed (hostile, damaged) upload is a 422."""
    conversation = permissions.get_or_404(Conversation, conversation_id, current_user, "post")
    message = service.post_message(
        actor=current_user,
        conversation=conversation,
        text=body.get("text") or "",
        asset=attachments.find(body.get("asset_id")),
    )
    return {
        "id": message.id,
        "status": message.status,
        "conversation_id": message.conversation_id,
        "deliver_at": message.deliver_at,
    }


@bp.route("/conversations/<int:conversation_id>/block", methods=["POST"], tags=TAGS)
@login_required
@bp.response(200, ConversationBlocked)
@refuses(401, 404)
def block_conversation(conversation_id: int) -> dict[str, bool]:
    """Hear no more of this conversation; its others can no longer write to you in it."""
    conversation = permissions.get_or_404(Conversation, conversation_id, current_user, "post")
    service.block(actor=current_user, conversation=conversation)
    return {"blocked": True}


@bp.route("/messages/<bigid:message_id>/read", methods=["POST"], tags=TAGS)
@login_required
@bp.response(200, MessageReadOut)
@refuses(401, 404)
def read_message(message_id: int) -> dict[str, int]:
    """Mark the conversation read up to this message (its other members get a `read` event)."""
    message = permissions.get_or_404(Message, message_id, current_user)
    member = service.mark_read(actor=current_user, message=message)
    return {
        "last_read_message_id": member.last_read_message_id,
        "unread": service.unread_total(current_user),
    }


@bp.route("/messages/<bigid:message_id>/report", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(MessageReportCreate)
@bp.response(201, MessagingCreated)
@refuses(401, 404, 409)
def report_message(body: dict[str, Any], message_id: int) -> dict[str, int]:
    """Report a message to the school's admins (once per person and message)."""
    message = permissions.get_or_404(Message, message_id, current_user)
    made = service.report(actor=current_user, message=message, reason=body.get("reason") or "")
    return {"id": made.id}


@bp.route("/messages/<bigid:message_id>/recall", methods=["POST"], tags=TAGS)
@login_required
@bp.response(200, MessageStatusOut)
@refuses(401, 403, 404, 409)
def recall_message(message_id: int) -> dict[str, Any]:
    """Take your message back within 2 minutes: recipients no longer see its text (the record
    keeps it)."""
    message = permissions.get_or_404(Message, message_id, current_user)
    service.recall(actor=current_user, message=message)
    return {"id": message.id, "status": message.status}


@bp.route("/messages/held", tags=TAGS)
@login_required
@bp.response(200, ConversationMessages)
@refuses(401)
def held_messages() -> dict[str, Any]:
    """The held messages the caller reviews (an admin at the conversations' scope)."""
    found = queries.held_for_review(current_user)
    return {"items": [delivery.payload(m, show_text=True) for m in found]}


@bp.route("/messages/<bigid:message_id>/release", methods=["POST"], tags=TAGS)
@login_required
@bp.response(200, MessageStatusOut)
@refuses(401, 404, 409)
def release_message(message_id: int) -> dict[str, Any]:
    """Deliver a held message (a reviewer's decision that the hold was wrong)."""
    message = permissions.get_or_404(Message, message_id, current_user)
    service.release(actor=current_user, message=message)
    return {"id": message.id, "status": message.status}


class KeywordList(Out):
    words = fields.List(fields.String())
    patterns = fields.List(
        fields.String(), metadata={"description": "regular expressions on the folded text"}
    )
    is_default = fields.Boolean(
        metadata={"description": "the prefecture has no list of its own: these are the defaults"}
    )


class KeywordListUpdate(Body):
    words = fields.List(
        Text(safety.MAX_PATTERN, min_length=1),
        required=True,
        validate=validate.Length(max=safety.MAX_ENTRIES),
        metadata={"description": "matched ignoring case, width, spaces and punctuation"},
    )
    patterns = fields.List(
        Text(safety.MAX_PATTERN, min_length=1),
        load_default=list,
        validate=validate.Length(max=safety.MAX_ENTRIES),
        metadata={"description": "Python regular expressions on the folded text"},
    )


def _prefecture(unit_id: int) -> Unit:
    """A prefecture the caller administers something in (404 otherwise)."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.type != "prefecture":
        raise NotFound(_("No such prefecture within your reach."))
    if not any(u.is_within(unit) for u in rules.units_of(current_user, *ADMIN_ROLES)):
        raise NotFound(_("No such prefecture within your reach."))
    return unit


def _list_out(view: safety.ListView) -> dict[str, Any]:
    return {"words": view.words, "patterns": view.patterns, "is_default": view.is_default}


@bp.route("/units/<int:unit_id>/message-keywords", tags=TAGS)
@login_required
@bp.response(200, KeywordList)
@refuses(401, 404)
def message_keywords(unit_id: int) -> dict[str, Any]:
    """The prefecture's keyword list: a message matching it is held for review (its admins)."""
    return _list_out(safety.list_of(_prefecture(unit_id)))


@bp.route("/units/<int:unit_id>/message-keywords", methods=["PUT"], tags=TAGS)
@login_required
@bp.arguments(KeywordListUpdate)
@bp.response(200, KeywordList)
@refuses(401, 403, 404)
def replace_message_keywords(body: dict[str, Any], unit_id: int) -> dict[str, Any]:
    """Give the prefecture its own keyword list (its prefecture admins; audited with the list
    it replaced)."""
    view = safety.replace_list(
        actor=current_user,
        prefecture=_prefecture(unit_id),
        words=body["words"],
        patterns=body["patterns"],
    )
    return _list_out(view)
