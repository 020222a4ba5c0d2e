"""Access rules of the families-and-community endpoints: messages and announcements (see
tests/access.py)."""

from __future__ import annotations

from sqlalchemy import select

from tests.access import ADMINS, SIGNED_IN, Rule

MEMBERS = frozenset({"teacher1", "parent1"})
STAFF = ADMINS | frozenset({"teacher1"})
#: those with a school office to write to urgently
FAMILY = frozenset({"parent1", "student1"})


def thread(_ids: dict) -> tuple[int, int]:
    """A conversation of teacher1 and parent1 with one message of teacher1's: (its id, the
    message's id), rolled back with the request."""
    from elearn.extensions import db
    from parents.interaction import service
    from tests.conftest import user

    conversation = service.start_conversation(
        actor=user("teacher1"), participants=[user("parent1")]
    )
    message = service.post_message(actor=user("teacher1"), conversation=conversation, text="您好")
    ids = conversation.id, message.id
    db.session.commit()  # the request's session is another (undo_after rolls this back)
    return ids


RULES = {
    "interaction_api.conversations": Rule(lambda ids: "/api/v1/conversations", SIGNED_IN),
    # teacher1 names themselves only (a 400): allowed to ask; pref and county admins may not
    # write to a teacher, nor an expert
    "interaction_api.create_conversation": Rule(
        lambda ids: "/api/v1/conversations",
        frozenset({"teacher1", "parent1", "student1", "school_admin"}),
        method="POST",
        json=True,
        data=lambda ids: {"participant_ids": [ids["teacher1"]]},
    ),
    "interaction_api.conversation_messages": Rule(
        lambda ids: f"/api/v1/conversations/{thread(ids)[0]}/messages", MEMBERS
    ),
    "interaction_api.post_message": Rule(
        lambda ids: f"/api/v1/conversations/{thread(ids)[0]}/messages",
        MEMBERS,
        method="POST",
        json=True,
        data=lambda ids: {"text": "谢谢老师"},
    ),
    "interaction_api.block_conversation": Rule(
        lambda ids: f"/api/v1/conversations/{thread(ids)[0]}/block",
        MEMBERS,
        method="POST",
        json=True,
    ),
    "interaction_api.read_message": Rule(
        lambda ids: f"/api/v1/messages/{thread(ids)[1]}/read", MEMBERS, method="POST", json=True
    ),
    # teacher1 reporting their own message is a 409: allowed to ask
    "interaction_api.report_message": Rule(
        lambda ids: f"/api/v1/messages/{thread(ids)[1]}/report",
        MEMBERS,
        method="POST",
        json=True,
        data=lambda ids: {"reason": "骚扰"},
    ),
    "interaction_api.recall_message": Rule(
        lambda ids: f"/api/v1/messages/{thread(ids)[1]}/recall",
        frozenset({"teacher1"}),
        method="POST",
        json=True,
    ),
    "interaction_api.held_messages": Rule(lambda ids: "/api/v1/messages/held", SIGNED_IN),
    # the message is delivered: a reviewer's release is a 409, everyone else's a 404
    "interaction_api.release_message": Rule(
        lambda ids: f"/api/v1/messages/{thread(ids)[1]}/release", ADMINS, method="POST", json=True
    ),
    "interaction.inbox": Rule(lambda ids: "/messages", SIGNED_IN),
    "interaction.conversation": Rule(lambda ids: f"/messages/{thread(ids)[0]}", MEMBERS),
    "interaction_api.message_keywords": Rule(
        lambda ids: f"/api/v1/units/{ids['prefecture']}/message-keywords", ADMINS
    ),
    "interaction_api.replace_message_keywords": Rule(
        lambda ids: f"/api/v1/units/{ids['prefecture']}/message-keywords",
        frozenset({"pref_admin"}),
        method="PUT",
        json=True,
        data=lambda ids: {"words": ["冰毒"], "patterns": [r"1[3-9]\d{9}"]},
    ),
    "interaction.review": Rule(lambda ids: "/messages/review", ADMINS),
    "interaction_api.delivered": Rule(
        lambda ids: f"/api/v1/conversations/{thread(ids)[0]}/delivered",
        MEMBERS,
        method="POST",
        json=True,
        data=lambda ids: {"message_id": thread(ids)[1]},
    ),
    # the thread lies in S0101: its school's, county's and prefecture's admins
    "interaction.export_conversation": Rule(
        lambda ids: f"/messages/{thread(ids)[0]}/export", ADMINS, method="POST"
    ),
    "interaction.quiet_hours": Rule(lambda ids: "/messages/quiet-hours", STAFF),
    "interaction.office": Rule(lambda ids: "/messages/office", FAMILY),
    "interaction_office_api.quiet_hours": Rule(lambda ids: "/api/v1/quiet-hours", STAFF),
    "interaction_office_api.set_quiet_hours": Rule(
        lambda ids: "/api/v1/quiet-hours",
        STAFF,
        method="PUT",
        json=True,
        data=lambda ids: {"enabled": True, "starts": "21:30", "ends": "06:30"},
    ),
    "interaction_office_api.office_schools": Rule(lambda ids: "/api/v1/school-office", SIGNED_IN),
    "interaction_office_api.post_office_message": Rule(
        lambda ids: "/api/v1/school-office/messages",
        FAMILY,
        method="POST",
        json=True,
        data=lambda ids: {"text": "急事"},
    ),
    "interaction.new_conversation": Rule(lambda ids: "/messages/new", SIGNED_IN),
}


ADMIN_AND_TEACHERS = ADMINS | frozenset({"teacher1"})


def _announcement_to_parent1(ids: dict) -> int:
    """An announcement from school_admin to the guardians of S0101 (parent1 among them)."""
    from elearn.extensions import db
    from elearn.models import Unit
    from parents.announcements import service
    from parents.announcements.models import Announcement
    from tests.conftest import user

    found = db.session.scalar(select(Announcement).where(Announcement.title == "访问规则通知"))
    if found is None:
        school = db.session.scalar(select(Unit).where(Unit.code == "S0101"))
        found = service.send(
            actor=user("school_admin"),
            title="访问规则通知",
            body="",
            audience=[service.Audience(unit=school, role="guardian")],
            requires_ack=True,
        )
        db.session.commit()
    return found.id


ANNOUNCEMENT_RULES = {
    "announcements.index": Rule(lambda ids: "/announcements", SIGNED_IN),
    "announcements.detail": Rule(
        lambda ids: f"/announcements/{_announcement_to_parent1(ids)}",
        frozenset({"parent1", "school_admin", "county_admin", "pref_admin"}),
    ),
    "announcements.ack": Rule(
        lambda ids: f"/announcements/{_announcement_to_parent1(ids)}/ack",
        frozenset({"parent1"}),
        method="POST",
    ),
    "announcements.new": Rule(lambda ids: "/announcements/new", ADMIN_AND_TEACHERS),
    "announcements.remind": Rule(
        lambda ids: f"/announcements/{_announcement_to_parent1(ids)}/remind",
        frozenset({"school_admin", "county_admin", "pref_admin"}),
        method="POST",
    ),
    "announcements_api.create": Rule(
        lambda ids: "/api/v1/announcements",
        ADMIN_AND_TEACHERS,
        method="POST",
        json=True,
        data=lambda ids: {
            "title": "访问规则",
            "audience": [{"unit_id": ids["class"], "role": "guardian"}],
        },
    ),
    "announcements_api.lists": Rule(lambda ids: "/api/v1/announcements", SIGNED_IN),
    "announcements_api.read": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/read",
        frozenset({"parent1"}),
        method="POST",
        json=True,
    ),
    "announcements_api.ack": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/ack",
        frozenset({"parent1"}),
        method="POST",
        json=True,
    ),
    "announcements_api.forward": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/forward",
        frozenset(),  # its recipients are guardians, who forward nothing
        method="POST",
        json=True,
        data=lambda ids: {"audience": [{"unit_id": ids["class"], "role": "guardian"}]},
    ),
    "announcements_api.receipts": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/receipts",
        frozenset({"school_admin", "county_admin", "pref_admin"}),
    ),
}

RULES.update(ANNOUNCEMENT_RULES)


STAFF = ADMINS | frozenset({"teacher1"})
PARTIES = frozenset({"teacher1", "parent1"})


def _open_slot(_ids: dict, hours: int = 72) -> int:
    """An open video slot of teacher1's, rolled back with the request."""
    from datetime import timedelta

    from elearn.extensions import db
    from elearn.models._types import utcnow
    from parents.appointments import service
    from tests.conftest import user

    start = utcnow().replace(microsecond=0) + timedelta(hours=hours)
    slot = service.publish_slot(
        actor=user("teacher1"), starts_at=start, ends_at=start + timedelta(minutes=30), mode="video"
    )
    db.session.commit()
    return slot.id


def _appointment(ids: dict) -> int:
    """parent1's booking of a video slot of teacher1's, rolled back with the request."""
    from elearn.extensions import db
    from parents.appointments import service
    from parents.appointments.models import AppointmentSlot
    from tests.conftest import user

    slot = db.session.get(AppointmentSlot, _open_slot(ids, hours=96))
    appointment = service.book(actor=user("parent1"), slot=slot, reason="访问规则")
    db.session.commit()
    return appointment.id


APPOINTMENT_RULES = {
    "appointments.index": Rule(lambda ids: "/appointments", SIGNED_IN),
    "appointments.slots": Rule(lambda ids: "/appointments/slots", STAFF),
    "appointments.book": Rule(lambda ids: "/appointments/book", frozenset({"parent1"})),
    "appointments.book_slot": Rule(
        lambda ids: f"/appointments/book/{_open_slot(ids)}",
        frozenset({"parent1"}),
        method="POST",
        data=lambda ids: {"reason": "访问规则"},
    ),
    "appointments.invite": Rule(
        lambda ids: f"/appointments/slots/{_open_slot(ids)}/invite",
        frozenset({"teacher1"}),
        method="POST",
        data=lambda ids: {"guardian_id": "1", "reason": "访问规则"},
    ),
    "appointments.withdraw": Rule(
        lambda ids: f"/appointments/slots/{_open_slot(ids)}/withdraw",
        frozenset({"teacher1"}),
        method="POST",
    ),
    "appointments.detail": Rule(lambda ids: f"/appointments/{_appointment(ids)}", PARTIES),
    "appointments.cancel": Rule(
        lambda ids: f"/appointments/{_appointment(ids)}/cancel", PARTIES, method="POST"
    ),
    "appointments.notes": Rule(
        lambda ids: f"/appointments/{_appointment(ids)}/notes",
        frozenset({"teacher1"}),
        method="POST",
        data=lambda ids: {"notes": "记录"},
    ),
    "appointments.call": Rule(lambda ids: f"/appointments/{_appointment(ids)}/call", PARTIES),
    "appointments_api.slots": Rule(lambda ids: "/api/v1/appointment-slots", SIGNED_IN),
    # staff publish; teacher1's slot overlaps nothing (each role's request is rolled back)
    "appointments_api.create_slot": Rule(
        lambda ids: "/api/v1/appointment-slots",
        STAFF,
        method="POST",
        json=True,
        data=lambda ids: {
            "starts_at": "2099-01-01T09:00:00+08:00",
            "ends_at": "2099-01-01T09:30:00+08:00",
            "mode": "video",
        },
    ),
    "appointments_api.withdraw_slot": Rule(
        lambda ids: f"/api/v1/appointment-slots/{_open_slot(ids)}/withdraw",
        frozenset({"teacher1"}),
        method="POST",
        json=True,
    ),
    # only a guardian who may message teacher1 books teacher1's slot; staff and strangers: 404
    "appointments_api.book": Rule(
        lambda ids: "/api/v1/appointments",
        frozenset({"parent1"}),
        method="POST",
        json=True,
        data=lambda ids: {"slot_id": _open_slot(ids), "reason": "访问规则"},
    ),
    "appointments_api.mine": Rule(lambda ids: "/api/v1/appointments", SIGNED_IN),
    "appointments_api.one": Rule(lambda ids: f"/api/v1/appointments/{_appointment(ids)}", PARTIES),
    "appointments_api.cancel": Rule(
        lambda ids: f"/api/v1/appointments/{_appointment(ids)}/cancel",
        PARTIES,
        method="POST",
        json=True,
    ),
    "appointments_api.notes": Rule(
        lambda ids: f"/api/v1/appointments/{_appointment(ids)}/notes", frozenset({"teacher1"})
    ),
    "appointments_api.save_notes": Rule(
        lambda ids: f"/api/v1/appointments/{_appointment(ids)}/notes",
        frozenset({"teacher1"}),
        method="PUT",
        json=True,
        data=lambda ids: {"notes": "记录"},
    ),
}

RULES.update(APPOINTMENT_RULES)
