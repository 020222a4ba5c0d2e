"""Messages' pages, phone first: the inbox, and a conversation with its messages and a box to
write in (the socket's real time arrives with the page's script in a later step)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import permissions, uow
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.service.errors import ServiceError
from media import service as media_service
from parents.interaction import (
    attachments,
    contacts,
    delivery,
    export,
    queries,
    quiet,
    rules,
    service,
)
from parents.interaction.forms import (
    ExportForm,
    MessageForm,
    OfficeForm,
    QuietHoursForm,
    ReleaseForm,
    StartForm,
)
from parents.interaction.models import Conversation, ConversationKind, Message, MessageStatus

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
        "automatic": message.is_automatic,
        "deliver_at": message.deliver_at if message.status == MessageStatus.WAITING else None,
        "created_at": message.created_at,
    }


def _receipt(message: Message, conversation: Conversation, viewer: User) -> str | None:
    """What the sender sees under their own delivered message: read, delivered, or sent."""
    if message.sender_id != viewer.id or message.status != MessageStatus.DELIVERED:
        return None
    others = [m for m in conversation.members if m.user_id != viewer.id]
    if not others:
        return None
    read = sum(1 for m in others if m.last_read_message_id >= message.id)
    got = sum(1 for m in others if m.last_delivered_message_id >= message.id)
    if len(others) == 1:
        return _("Read") if read else (_("Delivered") if got else _("Sent"))
    return _("%(read)d of %(count)d read", read=read, count=len(others))


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
    staff = quiet.is_staff(current_user)
    return render_template(
        "interaction/inbox.html",
        rows=rows,
        held=held,
        is_staff=staff,
        office=not staff and bool(service.office_schools(current_user)),
    )


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
    bubbles = [
        {**_bubble(m, current_user, reviewer), "receipt": _receipt(m, found, current_user)}
        for m in messages
    ]
    return render_template(
        "interaction/conversation.html",
        conversation=found,
        name=_name(found, current_user),
        bubbles=bubbles,
        form=form if may_post else None,
        export_form=ExportForm() if reviewer else None,
        office=not quiet.is_staff(current_user) and bool(service.office_schools(current_user)),
        attachment_limit=media_service.attachment_limit(current_user) if may_post else None,
    ), status


@bp.route("/messages/<int:conversation_id>/export", methods=["POST"])
@login_required
def export_conversation(conversation_id: int):
    """The conversation's full record as .xlsx, for an admin over its scope (audited)."""
    found = permissions.get_or_404(Conversation, conversation_id, current_user, "review")
    if not ExportForm().validate_on_submit():
        abort(400)
    data = export.conversation_record(
        actor=current_user, conversation=found, ip=request.remote_addr
    )
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f"attachment; filename=conversation-{found.id}.xlsx",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/messages/quiet-hours", methods=["GET", "POST"])
@login_required
def quiet_hours():
    """A staff member's quiet hours and automatic reply."""
    hours = quiet.hours_of(current_user)
    if hours is None:
        abort(404)
    form = QuietHoursForm(
        data=None
        if request.method == "POST"
        else {
            "enabled": hours.is_enabled,
            "starts": hours.starts,
            "ends": hours.ends,
            "auto_reply": hours.auto_reply or "",
        }
    )
    status = 200
    if form.validate_on_submit():
        try:
            with uow.savepoint():
                quiet.set_hours(
                    actor=current_user,
                    is_enabled=bool(form.enabled.data),
                    starts=form.starts.data,
                    ends=form.ends.data,
                    auto_reply=form.auto_reply.data,
                )
        except ServiceError as error:
            form.ends.errors = [error.message]
            status = 400
        else:
            flash(_("Your quiet hours are saved."), "success")
            return redirect(url_for("interaction.quiet_hours"))
    elif form.is_submitted():
        status = 400
    return render_template("interaction/quiet_hours.html", form=form), status


@bp.route("/messages/office", methods=["GET", "POST"])
@login_required
def office():
    """A family's urgent line to the school office: delivered at once, whatever the hour."""
    schools = service.office_schools(current_user)
    if not schools or quiet.is_staff(current_user):
        abort(404)
    form = OfficeForm()
    form.school_id.choices = [(s.id, s.name) for s in schools]
    status = 200
    if form.validate_on_submit():
        school = next(s for s in schools if s.id == form.school_id.data)
        try:
            with uow.savepoint():
                line = service.office_conversation(actor=current_user, school=school)
                service.post_message(actor=current_user, conversation=line, text=form.text.data)
        except ServiceError as error:
            form.text.errors = [error.message]
            status = 400
        else:
            flash(_("The school office has your message."), "success")
            return redirect(url_for("interaction.conversation", conversation_id=line.id))
    elif form.is_submitted():
        status = 400
    return render_template("interaction/office.html", form=form), status


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
                "conversation_id": m.conversation_id,
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
