"""Messages' pages, phone first: the inbox, and a conversation with its messages and a box to
write in (the socket's real time arrives with the page's script in a later step)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import permissions, uow
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.service.errors import ServiceError
from media import service as media_service
from parents.interaction import attachments, contacts, delivery, queries, rules, service
from parents.interaction.forms import MessageForm, ReleaseForm, StartForm
from parents.interaction.models import Conversation, ConversationKind, Message

bp = Blueprint(
    "interaction",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/messages-static",
)


def nav_items(user: User) -> list[tuple[str, str]]:
    return [("interaction.inbox", _("Conversations"))]


def _name(conversation: Conversation, viewer: User) -> str:
    """What the inbox calls a conversation: its title, or the other people's names."""
    if conversation.title and conversation.kind != ConversationKind.DIRECT:
        return conversation.title
    others = [m.user.display_name for m in conversation.members if m.user_id != viewer.id]
    return "、".join(others[:3]) or (conversation.title or "")


def _bubble(message: Message, viewer: User, reviewer: bool) -> dict[str, Any]:
    shown = delivery.shows_text(message, viewer, is_reviewer=reviewer)
    return {
        "attachment": attachments.view(message.asset) if shown and message.asset_id else None,
        "id": message.id,
        "mine": message.sender_id == viewer.id,
        "sender": message.sender.display_name,
        "text": message.text if shown else None,
        "status": message.status,
        "created_at": message.created_at,
    }


@bp.route("/messages")
@login_required
def inbox():
    rows = [
        {
            "id": row.conversation.id,
            "name": _name(row.conversation, current_user),
            "unread": row.unread,
            "as_guardian": row.as_guardian,
            "broadcast": row.conversation.kind == ConversationKind.CLASS_GUARDIANS,
            "at": row.conversation.last_message_at or row.conversation.created_at,
        }
        for row in queries.inbox(current_user)
    ]
    held = len(queries.held_for_review(current_user)) if _is_admin(current_user) else 0
    return render_template("interaction/inbox.html", rows=rows, held=held)


@bp.route("/messages/<int:conversation_id>", methods=["GET", "POST"])
@login_required
def conversation(conversation_id: int):
    found = permissions.get_or_404(Conversation, conversation_id, current_user)
    may_post = permissions.can(current_user, "post", found)
    form = MessageForm()
    status = 200
    if may_post and form.validate_on_submit():
        try:
            with uow.savepoint():
                message = service.post_message(
                    actor=current_user, conversation=found, text=form.text.data or ""
                )
        except ServiceError as error:
            form.text.errors = [error.message]
            status = 400
        else:
            target = message.conversation_id  # a reply to a broadcast: its own thread
            return redirect(url_for("interaction.conversation", conversation_id=target))
    elif form.is_submitted():
        status = 400 if may_post else 404
    messages = queries.visible_messages(current_user, found, limit=queries.PAGE)
    if messages and found.member(current_user) is not None:
        service.mark_read(actor=current_user, message=messages[-1])
    reviewer = rules.is_reviewer(current_user, found)
    return render_template(
        "interaction/conversation.html",
        conversation=found,
        name=_name(found, current_user),
        bubbles=[_bubble(m, current_user, reviewer) for m in messages],
        form=form if may_post else None,
        attachment_limit=media_service.attachment_limit(current_user) if may_post else None,
    ), status


def _is_admin(user: User) -> bool:
    return bool(rules.units_of(user, *ADMIN_ROLES))


@bp.route("/messages/review", methods=["GET", "POST"])
@login_required
def review():
    """Held messages of the conversations the admin reviews: each delivered with one button."""
    if not _is_admin(current_user):
        abort(404)
    form = ReleaseForm()
    if form.validate_on_submit():
        message = permissions.get_or_404(Message, form.message_id.data, current_user)
        try:
            with uow.savepoint():
                service.release(actor=current_user, message=message)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("The message is delivered."), "success")
        return redirect(url_for("interaction.review"))
    held = queries.held_for_review(current_user)
    return render_template(
        "interaction/review.html",
        held=[
            {
                "id": m.id,
                "sender": m.sender.display_name,
                "text": m.text,
                "attachment": attachments.view(m.asset) if m.asset_id else None,
                "reason": m.held_reason,
                "created_at": m.created_at,
            }
            for m in held
        ],
        form=form,
    )


def _start(form: StartForm) -> Conversation | None:
    """The conversation the form names, started (None: it named nobody within reach)."""
    if form.class_id.data:
        klass = db.session.get(Unit, form.class_id.data)
        if klass is None or not rules.may_broadcast(current_user, klass):
            return None
        return service.start_class_broadcast(actor=current_user, klass=klass)
    other = db.session.get(User, form.user_id.data) if form.user_id.data else None
    if other is None or not rules.may_message(current_user, other):
        return None
    return service.start_conversation(actor=current_user, participants=[other])


@bp.route("/messages/new", methods=["GET", "POST"])
@login_required
def new_conversation():
    """Whom the user may write to, each a button that opens (or starts) the conversation."""
    form = StartForm()
    if form.validate_on_submit():
        try:
            with uow.savepoint():
                started = _start(form)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            if started is None:
                abort(404)
            return redirect(url_for("interaction.conversation", conversation_id=started.id))
    return render_template(
        "interaction/new.html",
        people=contacts.candidates(current_user),
        classes=contacts.broadcast_classes(current_user),
        form=form,
    )
