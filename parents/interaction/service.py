"""Messages between school and family: starting conversations, posting, reading, recalling,
reporting, blocking, and the reviewer's release of a held message.

Who may talk is the table of ``parents.interaction.rules``; this module applies it to every
participant (and, in a group, to every pair, so a group cannot become a way around it). A
message is delivered, or held when it matches the keyword list of its conversation's prefecture
(``safety``), and ``delivery`` tells the right sockets after the commit. Nothing is deleted: a
recall (its sender, within ``RECALL_WINDOW``) hides the text from recipients and keeps it.
Functions take an explicit actor, flush and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models import Role, RoleAssignment, Unit, User
from elearn.models._types import aware, utcnow
from elearn.models.accounts import ADMIN_ROLES
from elearn.models.org import SCHOOL_LEVEL
from elearn.service import notifications
from elearn.service.errors import Forbidden, NotFound, ServiceError
from media.models import Asset
from parents.interaction import attachments, delivery, quiet, rules, safety
from parents.interaction.models import (
    MAX_TEXT,
    Conversation,
    ConversationKind,
    ConversationMember,
    Message,
    MessageReport,
    MessageStatus,
)

#: a sender may take a message back this long after sending it
RECALL_WINDOW = timedelta(minutes=2)
#: the most people in a group conversation (a class's teachers, a school's office)
MAX_GROUP = 50


# --- starting conversations ------------------------------------------------------------------------


def _scope(people: list[User]) -> Unit:
    """The unit a conversation lies in: the deepest unit above every member's roles, no deeper
    than a school (a teacher and a guardian of class 5-1 talk within their school)."""
    paths = [a.unit.ancestor_ids for person in people for a in person.roles]
    if not paths:
        raise ServiceError(_("These people belong to no school."), status=403)
    common: list[int] = []
    for level in zip(*paths, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    if not common:
        raise ServiceError(_("These people belong to no common unit."), status=403)
    unit = db.session.get(Unit, common[:SCHOOL_LEVEL][-1])
    assert unit is not None
    return unit


def _refuse_contact(actor: User, others: list[User]) -> None:
    for other in others:
        if not rules.may_message(actor, other):
            raise Forbidden(
                _("You may not start a conversation with %(name)s.", name=other.display_name)
            )


def _existing_direct(a: User, b: User) -> Conversation | None:
    mine = select(ConversationMember.conversation_id).where(ConversationMember.user_id == a.id)
    theirs = select(ConversationMember.conversation_id).where(ConversationMember.user_id == b.id)
    return db.session.scalar(
        select(Conversation)
        .where(
            Conversation.kind == ConversationKind.DIRECT,
            Conversation.reply_to_id.is_(None),
            Conversation.id.in_(mine),
            Conversation.id.in_(theirs),
        )
        .order_by(Conversation.id)
        .limit(1)
    )


def _create(
    *,
    actor: User,
    kind: ConversationKind,
    members: list[User],
    scope: Unit,
    title: str | None = None,
    **extra: int,
) -> Conversation:
    conversation = Conversation(
        kind=kind, title=title, unit_id=scope.id, created_by_id=actor.id, **extra
    )
    db.session.add(conversation)
    db.session.flush()
    for person_id in dict.fromkeys(p.id for p in [actor, *members]):
        db.session.add(ConversationMember(conversation_id=conversation.id, user_id=person_id))
    db.session.flush()
    db.session.refresh(conversation)
    return conversation


def start_conversation(
    *, actor: User, participants: list[User], title: str | None = None
) -> Conversation:
    """A conversation with one person (the existing one, if any) or a small group; refused
    (403) when the table forbids the actor and any participant, or any two members."""
    others = list({p.id: p for p in participants if p.id != actor.id}.values())
    if not others:
        raise ServiceError(_("Name at least one other person."), field="participant_ids")
    if len(others) > MAX_GROUP:
        raise ServiceError(
            _("A group has at most %(count)d people.", count=MAX_GROUP), field="participant_ids"
        )
    _refuse_contact(actor, others)
    for index, first in enumerate(others):
        for second in others[index + 1 :]:
            if not rules.may_message(first, second):
                raise Forbidden(
                    _(
                        "%(first)s and %(second)s may not be in one conversation.",
                        first=first.display_name,
                        second=second.display_name,
                    )
                )
    if len(others) == 1:
        found = _existing_direct(actor, others[0])
        if found is not None:
            return found
    kind = ConversationKind.DIRECT if len(others) == 1 else ConversationKind.GROUP
    scope = _scope([actor, *others])
    return _create(actor=actor, kind=kind, members=others, scope=scope, title=title)


def class_guardians(klass: Unit) -> list[User]:
    """The guardians of the students of a class."""
    students = select(RoleAssignment.user_id).where(
        RoleAssignment.unit_id == klass.id, RoleAssignment.role == Role.STUDENT
    )
    ids = rules.guardians_of(db.session.scalars(students))
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def start_class_broadcast(*, actor: User, klass: Unit, title: str | None = None) -> Conversation:
    """One-to-many: the actor (the class's teacher or school admin) to every guardian of the
    class; a guardian's reply opens a private thread back (``post_message``)."""
    if not rules.may_broadcast(actor, klass):
        raise Forbidden(_("You may not write to the guardians of this class."))
    guardians = [g for g in class_guardians(klass) if g.id != actor.id]
    if not guardians:
        raise ServiceError(_("This class has no guardians yet."), status=409)
    school = db.session.get(Unit, klass.school_id) if klass.school_id else None
    assert school is not None
    return _create(
        actor=actor,
        kind=ConversationKind.CLASS_GUARDIANS,
        members=guardians,
        scope=school,
        title=title or klass.name,
        class_id=klass.id,
    )


def _reply_thread(actor: User, broadcast: Conversation) -> Conversation:
    """The private thread from a guardian back to a broadcast's sender (made on first reply)."""
    found = db.session.scalar(
        select(Conversation)
        .join(ConversationMember)
        .where(Conversation.reply_to_id == broadcast.id, ConversationMember.user_id == actor.id)
    )
    if found is not None:
        return found
    sender = broadcast.created_by
    if not rules.may_message(actor, sender):
        raise Forbidden(_("You may not reply to %(name)s.", name=sender.display_name))
    return _create(
        actor=actor,
        kind=ConversationKind.DIRECT,
        members=[sender],
        scope=broadcast.unit,
        title=broadcast.title,
        reply_to_id=broadcast.id,
    )


# --- messages --------------------------------------------------------------------------------------


def reviewer_ids(conversation: Conversation) -> list[int]:
    """The admins at the conversation's scope (a school's admins), who review what is held."""
    return list(
        db.session.scalars(
            select(RoleAssignment.user_id)
            .where(
                RoleAssignment.unit_id == conversation.unit_id,
                RoleAssignment.role.in_(ADMIN_ROLES),
            )
            .distinct()
        )
    )


def _check_text(text: str, *, required: bool = True) -> str:
    text = text.strip()
    if not text and required:
        raise ServiceError(_("Write a message first."), status=422, field="text")
    if len(text) > MAX_TEXT:
        raise ServiceError(
            _("A message has at most %(count)d characters.", count=MAX_TEXT),
            status=422,
            field="text",
        )
    return text


def _blocked_by_all(actor: User, conversation: Conversation) -> bool:
    others, open_ = db.session.execute(
        select(func.count(), func.count().filter(ConversationMember.is_blocked.is_(False))).where(
            ConversationMember.conversation_id == conversation.id,
            ConversationMember.user_id != actor.id,
        )
    ).one()
    return bool(others) and not open_


def _still_allowed(actor: User, conversation: Conversation) -> bool:
    """The table still lets the actor write here (a teacher who left the class no longer writes
    to its families): checked for a direct thread and a class broadcast; a group's members were
    checked pairwise when it was made."""
    if conversation.kind == ConversationKind.DIRECT:
        return all(
            rules.may_message(actor, m.user) for m in conversation.members if m.user_id != actor.id
        )
    if conversation.kind == ConversationKind.CLASS_GUARDIANS and conversation.class_id:
        klass = db.session.get(Unit, conversation.class_id)
        return klass is not None and rules.may_broadcast(actor, klass)
    return True


def post_message(
    *,
    actor: User,
    conversation: Conversation,
    text: str = "",
    now: datetime | None = None,
    asset: Asset | None = None,
) -> Message:
    """Post a message: delivered, or held for review when it matches the keyword list. A
    guardian's message in a class broadcast goes to a private thread back to its sender. Text,
    an attachment (``asset``: ``attachments.check_attachment``), or both."""
    text = _check_text(text, required=asset is None)
    if asset is not None:
        attachments.check_attachment(actor, asset)
    member = conversation.member(actor)
    if member is None:
        raise NotFound(_("This conversation does not exist, or is not yours."))
    if (
        conversation.kind == ConversationKind.CLASS_GUARDIANS
        and conversation.created_by_id != actor.id
    ):
        conversation = _reply_thread(actor, conversation)
    elif _blocked_by_all(actor, conversation) or not _still_allowed(actor, conversation):
        raise Forbidden(_("This conversation no longer accepts your messages."))
    moment = now or utcnow()
    _wake(actor, conversation)
    prefecture_id = conversation.unit.ancestor_ids[0]
    reason = safety.held_for(text, prefecture_id)
    wait = None if reason else quiet.wait_for(actor, conversation, moment)
    status = MessageStatus.DELIVERED
    if reason:
        status = MessageStatus.HELD
    elif wait is not None:
        status = MessageStatus.WAITING
    message = Message(
        conversation_id=conversation.id,
        sender_id=actor.id,
        text=text,
        asset_id=asset.id if asset is not None else None,
        status=status,
        held_reason=reason[:200] if reason else None,
        deliver_at=wait.until if wait else None,
        created_at=moment,
    )
    db.session.add(message)
    conversation.last_message_at = message.created_at
    db.session.flush()
    own = conversation.member(actor)
    if own is not None:  # the sender has read what they wrote
        own.last_read_message_id = max(own.last_read_message_id, message.id)
        own.last_delivered_message_id = max(own.last_delivered_message_id, message.id)
    reviewers = reviewer_ids(conversation) if reason else []
    if reviewers:
        notifications.notify(
            reviewers,
            kind="parents.message_held",
            title=_("A message is held for your review"),
            body=_("From %(name)s: %(text)s", name=actor.display_name, text=text[:200]),
        )
    delivery.announce(message, conversation, reviewers)
    if wait is not None:
        _auto_replies(conversation, wait, moment)
    if conversation.kind == ConversationKind.OFFICE and conversation.created_by_id == actor.id:
        _alert_office(actor, conversation, text)
    return message


# --- quiet hours and the school office ------------------------------------------------------------


def _deliver(message: Message, moment: datetime) -> None:
    message.status = MessageStatus.DELIVERED
    conversation = message.conversation
    if conversation.last_message_at is None or aware(conversation.last_message_at) < moment:
        conversation.last_message_at = moment
    delivery.announce(message, conversation, [])


def _wake(actor: User, conversation: Conversation) -> None:
    """The actor is at work in this conversation (writing or reading): what waited for them
    arrives now rather than at the end of their quiet hours."""
    waiting = db.session.scalars(
        select(Message).where(
            Message.conversation_id == conversation.id,
            Message.status == MessageStatus.WAITING,
            Message.sender_id != actor.id,
        )
    ).all()
    for message in waiting:
        _deliver(message, utcnow())
    if waiting:
        db.session.flush()


def _auto_replies(conversation: Conversation, wait: quiet.Wait, moment: datetime) -> None:
    """Each sleeping recipient's automatic reply, once per quiet period and conversation."""
    for sleeper in wait.sleepers:
        replied = db.session.scalar(
            select(Message.id).where(
                Message.conversation_id == conversation.id,
                Message.sender_id == sleeper.person.id,
                Message.is_automatic.is_(True),
                Message.created_at >= sleeper.start,
            )
        )
        if replied is not None:
            continue
        reply = Message(
            conversation_id=conversation.id,
            sender_id=sleeper.person.id,
            text=quiet.auto_reply_text(sleeper.person, sleeper.hours, sleeper.end),
            status=MessageStatus.DELIVERED,
            is_automatic=True,
            created_at=moment,
        )
        db.session.add(reply)
        db.session.flush()
        delivery.announce(reply, conversation, [])


def deliver_waiting(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat (``parents.deliver_waiting_messages``): deliver the messages whose recipients' quiet
    hours are over; returns how many. Rows are locked (``SKIP LOCKED``): two beats never
    deliver one message twice."""
    moment = now or utcnow()
    due = db.session.scalars(
        select(Message)
        .where(Message.status == MessageStatus.WAITING, Message.deliver_at <= moment)
        .order_by(Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Message)
    ).all()
    for message in due:
        _deliver(message, moment)
    db.session.flush()
    return len(due)


def office_schools(user: User) -> list[Unit]:
    """The schools whose office a family may write to urgently: a guardian's children's, a
    student's own (staff have their own ways to reach their school's admins)."""
    people = rules.children_of(user) if user.has_role(Role.GUARDIAN) else []
    ids = {
        a.unit.school_id
        for person in [user, *people]
        for a in person.roles
        if a.role == Role.STUDENT and a.unit.school_id
    }
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.id)))


def office_conversation(*, actor: User, school: Unit) -> Conversation:
    """The actor's urgent line to a school's office (its school admins), made on first use; it
    never waits for quiet hours, and each message alerts the office on every channel."""
    if school.id not in {s.id for s in office_schools(actor)}:
        raise NotFound(_("This school's office is not yours to write to."))
    admins = list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.unit_id == school.id, RoleAssignment.role == Role.SCHOOL_ADMIN)
            .order_by(User.id)
        ).unique()
    )
    admins = [a for a in admins if a.id != actor.id and rules.may_message(actor, a)]
    if not admins:
        raise ServiceError(_("This school has no office staff on the platform yet."), status=409)
    found = db.session.scalar(
        select(Conversation).where(
            Conversation.kind == ConversationKind.OFFICE,
            Conversation.created_by_id == actor.id,
            Conversation.unit_id == school.id,
        )
    )
    if found is None:
        return _create(
            actor=actor,
            kind=ConversationKind.OFFICE,
            members=admins,
            scope=school,
            title=_("%(school)s office", school=school.name),
        )
    present = {m.user_id for m in found.members}
    for admin in admins:  # an admin appointed since joins the line
        if admin.id not in present:
            db.session.add(ConversationMember(conversation_id=found.id, user_id=admin.id))
    db.session.flush()
    db.session.refresh(found)
    return found


def _alert_office(actor: User, conversation: Conversation, text: str) -> None:
    """An urgent message is a safety notice: at once, on every channel the office has."""
    notifications.notify(
        [m.user_id for m in conversation.members if m.user_id != actor.id],
        kind="safety.urgent_message",
        title=_("Urgent message from %(name)s", name=actor.display_name),
        body=text[:200] or _("A picture, a file or a voice message: open the conversation."),
        link=f"/messages/{conversation.id}",
    )


def recall(*, actor: User, message: Message, now: datetime | None = None) -> Message:
    """Take a message back within ``RECALL_WINDOW``: recipients no longer see its text; the
    record keeps it."""
    if message.sender_id != actor.id:
        raise Forbidden(_("Only its sender can recall a message."))
    if message.status == MessageStatus.RECALLED:
        return message
    moment = now or utcnow()
    if moment - aware(message.created_at) > RECALL_WINDOW:
        raise ServiceError(_("A message can be recalled within 2 minutes only."), status=409)
    was_held = message.status in (MessageStatus.HELD, MessageStatus.WAITING)
    message.status = MessageStatus.RECALLED
    message.recalled_at = moment
    db.session.flush()
    if was_held:  # nobody else heard of it
        delivery.emit_to(
            [actor.id], message.conversation, delivery.payload(message, show_text=True)
        )
    else:
        delivery.announce(message, message.conversation, [])
    return message


def mark_read(*, actor: User, message: Message) -> ConversationMember:
    """Everything in the message's conversation up to it is read by the actor (and so
    delivered to them); what waited for the actor's quiet hours arrives first."""
    member = message.conversation.member(actor)
    if member is None:
        raise NotFound(_("This message does not exist, or is not yours."))
    _wake(actor, message.conversation)
    if message.id > member.last_read_message_id:
        member.last_read_message_id = message.id
        member.last_delivered_message_id = max(member.last_delivered_message_id, message.id)
        db.session.flush()
        delivery.announce_read(message.conversation, actor, message.id)
    return member


def mark_delivered(*, actor: User, conversation: Conversation, message_id: int) -> int:
    """The actor's device has the conversation's messages up to ``message_id`` (their client
    says so on receipt, or they fetched them): a delivery receipt for the senders. Never past
    the newest message the actor may see; returns the member's mark."""
    member = conversation.member(actor)
    if member is None:
        raise NotFound(_("This conversation does not exist, or is not yours."))
    newest = db.session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conversation.id,
            Message.id <= message_id,
            (Message.status == MessageStatus.DELIVERED) | (Message.sender_id == actor.id),
        )
    )
    if newest is not None and newest > member.last_delivered_message_id:
        member.last_delivered_message_id = newest
        db.session.flush()
        delivery.announce_receipt(conversation, actor, "delivered", newest)
    return member.last_delivered_message_id


def report(*, actor: User, message: Message, reason: str = "") -> MessageReport:
    """Report a message to the reviewers (once per person and message): a member, or a
    guardian reading their child's conversation."""
    if not rules.conversation_rule(actor, "view", message.conversation):
        raise NotFound(_("This message does not exist, or is not yours."))
    if message.sender_id == actor.id:
        raise ServiceError(_("You cannot report your own message."), status=409)
    found = db.session.scalar(
        select(MessageReport).filter_by(message_id=message.id, reporter_id=actor.id)
    )
    if found is not None:
        return found
    made = MessageReport(message_id=message.id, reporter_id=actor.id, reason=reason.strip())
    db.session.add(made)
    db.session.flush()
    reviewers = reviewer_ids(message.conversation)
    if reviewers:
        notifications.notify(
            reviewers,
            kind="parents.message_reported",
            title=_("A message was reported"),
            body=_(
                "%(name)s reported a message: %(reason)s",
                name=actor.display_name,
                reason=made.reason[:200],
            ),
        )
    return made


def block(*, actor: User, conversation: Conversation) -> ConversationMember:
    """The actor hears no more of this conversation, and its others can no longer write."""
    member = conversation.member(actor)
    if member is None:
        raise NotFound(_("This conversation does not exist, or is not yours."))
    member.is_blocked = True
    db.session.flush()
    return member


def release(*, actor: User, message: Message) -> Message:
    """A reviewer delivers a message the keyword list held wrongly."""
    if not rules.is_reviewer(actor, message.conversation):
        raise NotFound(_("This message does not exist, or is not yours."))
    if message.status != MessageStatus.HELD:
        raise ServiceError(_("This message is not held."), status=409)
    message.status = MessageStatus.DELIVERED
    message.reviewed_by_id = actor.id
    message.reviewed_at = utcnow()
    db.session.flush()
    delivery.announce(message, message.conversation, [])
    return message


def unread_total(user: User) -> int:
    """The user's unread messages, across conversations (for a badge)."""
    return int(
        db.session.scalar(
            select(func.count(Message.id))
            .join(ConversationMember, ConversationMember.conversation_id == Message.conversation_id)
            .where(
                ConversationMember.user_id == user.id,
                Message.id > ConversationMember.last_read_message_id,
                Message.sender_id != user.id,
                Message.status == MessageStatus.DELIVERED,
            )
        )
        or 0
    )
