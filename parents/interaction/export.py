"""A conversation's full record for an investigation (调查): every member, every message with
what recipients never saw (held, recalled, waiting texts, the keyword that held one, who
released it), every report; times on the installation's clock. Only an admin over the
conversation's scope may export it, and each export is an audit event."""

from __future__ import annotations

import io
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import select

from elearn.extensions import db
from elearn.localtime import wall_clock
from elearn.models import User
from elearn.service import audit
from elearn.service.errors import NotFound
from parents.interaction import rules
from parents.interaction.models import Conversation, Message, MessageReport


def _append(sheet: WriteOnlyWorksheet, values: list[object]) -> None:
    """One row; a text that opens with "=" stays text (the record, never a formula)."""
    cells: list[object] = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    sheet.append(cells)


def _local(moment: datetime | None) -> str:
    local = wall_clock(moment)
    return local.strftime("%Y-%m-%d %H:%M:%S") if local else ""


def _names(ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


def conversation_record(*, actor: User, conversation: Conversation, ip: str | None) -> bytes:
    """The record as an .xlsx (members, messages, reports), audited as
    ``parents.conversation_exported``; 404 for anyone but an admin over its scope."""
    if not rules.is_reviewer(actor, conversation):
        raise NotFound(_("This conversation does not exist, or is not yours."))
    messages = list(
        db.session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        )
    )
    reports = list(
        db.session.scalars(
            select(MessageReport)
            .join(Message, Message.id == MessageReport.message_id)
            .where(Message.conversation_id == conversation.id)
            .order_by(MessageReport.id)
        )
    )
    names = _names(
        {m.user_id for m in conversation.members}
        | {m.sender_id for m in messages}
        | {m.reviewed_by_id for m in messages if m.reviewed_by_id}
        | {r.reporter_id for r in reports}
    )
    labels = {
        "delivered": _("Delivered"),
        "held": _("Held for review"),
        "recalled": _("Recalled"),
        "waiting": _("Waiting for quiet hours to end"),
    }
    book = Workbook(write_only=True)
    members = book.create_sheet(_("Members"))
    _append(members, [_("Conversation"), conversation.id, conversation.title or ""])
    _append(members, [_("Name"), _("User id"), _("Joined at"), _("Blocked"), _("Read up to")])
    for member in conversation.members:
        _append(
            members,
            [
                names.get(member.user_id, ""),
                member.user_id,
                _local(member.joined_at),
                _("Yes") if member.is_blocked else _("No"),
                member.last_read_message_id,
            ],
        )
    sheet = book.create_sheet(_("Messages"))
    _append(
        sheet,
        [
            _("Message id"),
            _("Sent at"),
            _("Sender"),
            _("Status"),
            _("Text"),
            _("Attachment"),
            _("Automatic reply"),
            _("Held because"),
            _("Recalled at"),
            _("Reviewed by"),
            _("Reviewed at"),
        ],
    )
    for message in messages:
        _append(
            sheet,
            [
                message.id,
                _local(message.created_at),
                names.get(message.sender_id, ""),
                labels.get(message.status, message.status),
                message.text,
                message.asset_id or "",
                _("Yes") if message.is_automatic else "",
                message.held_reason or "",
                _local(message.recalled_at),
                names.get(message.reviewed_by_id or 0, ""),
                _local(message.reviewed_at),
            ],
        )
    reported = book.create_sheet(_("Reports"))
    _append(reported, [_("Message id"), _("Reported by"), _("Reason"), _("Reported at")])
    for report in reports:
        _append(
            reported,
            [
                report.message_id,
                names.get(report.reporter_id, ""),
                report.reason,
                _local(report.created_at),
            ],
        )
    audit.record(
        "parents.conversation_exported",
        actor=actor,
        unit_id=conversation.unit_id,
        target_type="conversation",
        target_id=conversation.id,
        ip=ip,
        messages=len(messages),
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
