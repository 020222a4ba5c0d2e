"""Access rules of the families-and-community endpoints: messages, announcements and the family pages (see
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


def care_file(_ids: dict, *, consent: bool = True) -> int:
    """A care file of student1 opened by school_admin (the designated admin) with teacher1 as
    caseworker, rolled back with the request."""
    from elearn.extensions import db
    from parents.care import service as care
    from tests.conftest import user

    file = care.create_file(
        actor=user("school_admin"),
        subject=user("student1"),
        risk_factors=["long_absence"],
        caseworkers=[(user("teacher1"), "teacher")],
        notes="家访记录" if consent else "",
        consent={"given_by": "王爸爸", "relation": "父亲", "method": "written"}
        if consent
        else None,
    )
    db.session.commit()
    return file.id


def care_export(ids: dict, *, approved: bool = False) -> int:
    """An export of school1's files requested by school_admin (approved by county_admin)."""
    from elearn.extensions import db
    from parents.care import service as care
    from tests.conftest import unit_by_code, user

    care_file(ids)
    export = care.request_export(user("school_admin"), unit_by_code("S0101"), "年度台账")
    if approved:
        care.approve_export(user("county_admin"), export)
    db.session.commit()
    return export.id


SCHOOL_ADMIN = frozenset({"school_admin"})
#: a care file's readers: its designated admin and its caseworker (before handover)
CARE_READERS = frozenset({"school_admin", "teacher1"})

RULES = {
    # care files: everyone else gets a 404 (the prefecture admin included)
    "care.index": Rule(lambda ids: "/care", STAFF),
    "care.new_file": Rule(lambda ids: "/care/files/new", SCHOOL_ADMIN),
    "care.file": Rule(lambda ids: f"/care/files/{care_file(ids)}", CARE_READERS),
    "care.add_followup": Rule(
        lambda ids: f"/care/files/{care_file(ids)}/followups",
        CARE_READERS,
        method="POST",
        data=lambda ids: {"notes": "谈心谈话", "next_step": "下周家访"},
    ),
    "care.consent": Rule(
        lambda ids: f"/care/files/{care_file(ids, consent=False)}/consent",
        CARE_READERS,
        method="POST",
        data=lambda ids: {"given_by": "王爸爸", "relation": "父亲", "method": "written"},
    ),
    "care.handover": Rule(
        lambda ids: f"/care/files/{care_file(ids)}/handover", SCHOOL_ADMIN, method="POST"
    ),
    "care.close": Rule(
        lambda ids: f"/care/files/{care_file(ids)}/close",
        SCHOOL_ADMIN,
        method="POST",
        data=lambda ids: {"reason": "已返校"},
    ),
    "care.access_log": Rule(lambda ids: f"/care/files/{care_file(ids)}/log", SCHOOL_ADMIN),
    "care.counts": Rule(lambda ids: "/care/counts", ADMINS),
    "care.screening": Rule(lambda ids: "/care/screening", SCHOOL_ADMIN),
    "care.exports": Rule(lambda ids: "/care/exports", ADMINS),
    "care.approve_export": Rule(
        lambda ids: f"/care/exports/{care_export(ids)}/approve",
        frozenset({"county_admin"}),
        method="POST",
    ),
    "care.download_export": Rule(
        lambda ids: f"/care/exports/{care_export(ids, approved=True)}/download", SCHOOL_ADMIN
    ),
    "care_api.create": Rule(
        lambda ids: "/api/v1/care-files",
        SCHOOL_ADMIN,
        method="POST",
        json=True,
        data=lambda ids: {"subject_id": ids["student1"], "risk_factors": ["dropout"]},
    ),
    "care_api.detail": Rule(lambda ids: f"/api/v1/care-files/{care_file(ids)}", CARE_READERS),
    "care_api.add_followup": Rule(
        lambda ids: f"/api/v1/care-files/{care_file(ids)}/followups",
        CARE_READERS,
        method="POST",
        json=True,
        data=lambda ids: {"notes": "谈心谈话"},
    ),
    "care_api.access_log": Rule(
        lambda ids: f"/api/v1/care-files/{care_file(ids)}/access-log", SCHOOL_ADMIN
    ),
    "care_api.consent": Rule(
        lambda ids: f"/api/v1/care-files/{care_file(ids, consent=False)}/consent",
        CARE_READERS,
        method="POST",
        json=True,
        data=lambda ids: {"given_by": "王爸爸", "relation": "父亲", "method": "written"},
    ),
    "care_api.handover": Rule(
        lambda ids: f"/api/v1/care-files/{care_file(ids)}/handover",
        SCHOOL_ADMIN,
        method="POST",
        json=True,
    ),
    "care_api.close": Rule(
        lambda ids: f"/api/v1/care-files/{care_file(ids)}/close",
        SCHOOL_ADMIN,
        method="POST",
        json=True,
        data=lambda ids: {"reason": "已返校"},
    ),
    "care_api.counts": Rule(lambda ids: "/api/v1/care-files/counts", ADMINS),
    "care_api.request_export": Rule(
        lambda ids: (care_file(ids), "/api/v1/care-exports")[1],
        SCHOOL_ADMIN,
        method="POST",
        json=True,
        data=lambda ids: {"school_id": ids["school"], "reason": "年度台账"},
    ),
    "care_api.approve_export": Rule(
        lambda ids: f"/api/v1/care-exports/{care_export(ids)}/approve",
        frozenset({"county_admin"}),
        method="POST",
        json=True,
    ),
    # school_admin (of a school with none designated yet) and the county office may choose (teacher1,
    # not a school admin, is a 400); everyone else is refused
    "care_api.designate": Rule(
        lambda ids: f"/api/v1/care-designations/{ids['school']}",
        frozenset({"school_admin", "county_admin"}),
        method="PUT",
        json=True,
        data=lambda ids: {"user_id": ids["teacher1"]},
    ),
    "care_api.download_export": Rule(
        lambda ids: f"/api/v1/care-exports/{care_export(ids, approved=True)}/download",
        SCHOOL_ADMIN,
    ),
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


def _classmate_of_student1():
    """A student of student1's class not linked to parent1."""
    from elearn.extensions import db
    from elearn.models import User
    from parents.family.service import student_class
    from tests.conftest import user

    klass = student_class(user("student1"))
    return db.session.scalar(
        select(User)
        .where(User.username != "student1", User.roles.any(unit_id=klass.id, role="student"))
        .order_by(User.id)
        .limit(1)
    )


def _invite_code(_ids: dict) -> str:
    """An open invite code teacher1 issued for a classmate of student1 (rolled back with the
    request)."""
    from elearn.extensions import db
    from parents.family import service
    from tests.conftest import user

    issued = service.issue_invite(actor=user("teacher1"), student=_classmate_of_student1())
    db.session.commit()
    return issued.display


def _pending_request(_ids: dict) -> int:
    """parent1's redeemed code for a classmate of student1, waiting for the school."""
    from elearn.extensions import db
    from parents.family import service
    from tests.conftest import user

    student = _classmate_of_student1()
    issued = service.issue_invite(actor=user("teacher1"), student=student)
    invite = service.redeem(
        actor=user("parent1"), code=issued.code, child_name=student.display_name, relation="母亲"
    )
    invite_id = invite.id
    db.session.commit()
    return invite_id


GUARDIAN = frozenset({"parent1"})

FAMILY_RULES = {
    "family.index": Rule(lambda ids: "/family", GUARDIAN),
    "family.child": Rule(lambda ids: f"/family/children/{ids['student1']}", GUARDIAN),
    "family.link": Rule(lambda ids: "/family/link", GUARDIAN),
    "family.invites": Rule(lambda ids: "/family/invites", STAFF),
    "family.student": Rule(lambda ids: f"/family/students/{ids['student1']}", STAFF),
    "family.decide": Rule(
        lambda ids: f"/family/requests/{_pending_request(ids)}/confirm", STAFF, method="POST"
    ),
    "family.unlink": Rule(
        lambda ids: f"/family/students/{ids['student1']}/unlink/{_parent1_id()}",
        ADMINS,
        method="POST",
    ),
    "family_api.my_children": Rule(lambda ids: "/api/v1/me/children", SIGNED_IN),
    "family_api.create_invite": Rule(
        lambda ids: "/api/v1/guardian-invites",
        STAFF,
        method="POST",
        json=True,
        data=lambda ids: {"student_id": ids["student1"]},
    ),
    # a name that does not match: a 400 for parent1 (allowed to ask), nothing written
    "family_api.redeem": Rule(
        lambda ids: "/api/v1/guardian-invites/redeem",
        GUARDIAN,
        method="POST",
        json=True,
        data=lambda ids: {"code": _invite_code(ids), "child_name": "不对", "relation": "母亲"},
    ),
    "family_api.requests_pending": Rule(lambda ids: "/api/v1/guardian-invites/requests", SIGNED_IN),
    "family_api.decide": Rule(
        lambda ids: f"/api/v1/guardian-invites/{_pending_request(ids)}/decision",
        STAFF,
        method="POST",
        json=True,
        data=lambda ids: {"decision": "refuse"},
    ),
}


def _parent1_id() -> int:
    from tests.conftest import user

    return user("parent1").id


RULES.update(FAMILY_RULES)


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
