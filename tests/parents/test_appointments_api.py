"""The appointments API: publishing slots, booking (a taken slot is a 409), inviting, the
lists, cancelling and the private notes; refusals say why, with nothing half-written; every
operation is in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models._types import utcnow
from parents.appointments.models import Appointment, AppointmentSlot
from tests.conftest import csrf_token, user


def post(client, path: str, body: dict | None = None, method: str = "POST"):
    return client.open(
        path, method=method, json=body or {}, headers={"X-CSRFToken": csrf_token(client, "/")}
    )


def iso(hours: float) -> str:
    moment = utcnow().replace(microsecond=0) + timedelta(hours=hours)
    return moment.isoformat()


def slot_body(hours: float = 24, minutes: int = 30, **extra) -> dict:
    return {"starts_at": iso(hours), "ends_at": iso(hours + minutes / 60), **extra}


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(AppointmentSlot.id))),
            db.session.scalar(select(func.count(Appointment.id))),
        )


def test_publish_book_list_cancel(app, signed_in):
    teacher, parent, other = signed_in("teacher1"), signed_in("parent1"), signed_in("g_S0101_5_02")
    made = post(teacher, "/api/v1/appointment-slots", slot_body(mode="video"))
    assert made.status_code == 201, made.get_json()
    slot_id = made.get_json()["id"]
    listed = parent.get("/api/v1/appointment-slots").get_json()
    [slot] = [s for s in listed["open"] if s["id"] == slot_id]
    assert slot["staff_name"] == "李老师" and slot["mode"] == "video" and not slot["taken"]
    assert slot["starts_at"].endswith("Z") or "+00:00" in slot["starts_at"]

    booked = post(parent, "/api/v1/appointments", {"slot_id": slot_id, "reason": "孩子作业问题"})
    assert booked.status_code == 201, booked.get_json()
    appointment_id = booked.get_json()["id"]
    taken = post(other, "/api/v1/appointments", {"slot_id": slot_id, "reason": "我也想约"})
    assert taken.status_code == 409
    assert "预约" in taken.get_json()["message"]

    mine = teacher.get("/api/v1/appointment-slots").get_json()["mine"]
    assert [(s["id"], s["taken"]) for s in mine] == [(slot_id, True)]
    [row] = parent.get("/api/v1/appointments").get_json()["appointments"]
    assert row["id"] == appointment_id and row["status"] == "confirmed"
    assert row["notes"] is None and row["reason"] == "孩子作业问题"

    saved = post(teacher, f"/api/v1/appointments/{appointment_id}/notes", {"notes": "谈得很好"},
                 method="PUT")  # fmt: skip
    assert saved.status_code == 200 and saved.get_json()["notes"] == "谈得很好"
    assert teacher.get(f"/api/v1/appointments/{appointment_id}").get_json()["notes"] == "谈得很好"
    assert parent.get(f"/api/v1/appointments/{appointment_id}").get_json()["notes"] is None
    assert parent.get(f"/api/v1/appointments/{appointment_id}/notes").status_code == 404
    assert other.get(f"/api/v1/appointments/{appointment_id}").status_code == 404

    cancelled = post(parent, f"/api/v1/appointments/{appointment_id}/cancel", {"reason": "有事"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = post(parent, f"/api/v1/appointments/{appointment_id}/cancel")
    assert again.status_code == 409
    rebooked = post(other, "/api/v1/appointments", {"slot_id": slot_id, "reason": "我也想约"})
    assert rebooked.status_code == 201


def test_bad_slots_are_refused_with_a_message_and_nothing_written(app, signed_in):
    teacher = signed_in("teacher1")
    before = counts(app)
    for status, body in (
        (400, slot_body(hours=-2)),  # in the past
        (400, {"starts_at": iso(24), "ends_at": iso(23)}),  # ends before it starts
        (400, slot_body(minutes=60 * 5)),  # too long
        (400, slot_body(mode="in_person")),  # nowhere
        # what the schema refuses
        (422, {"starts_at": "2030-03-01T20:43:00", "ends_at": "2030-03-01T21:00:00"}),
        (422, slot_body(mode="hologram")),
        (422, {**slot_body(), "extra": 1}),
        (422, {"starts_at": iso(24)}),
    ):
        refused = post(teacher, "/api/v1/appointment-slots", body)
        assert refused.status_code == status, (body, refused.get_json())
        assert refused.get_json()["message"]
    assert counts(app) == before


def test_guardians_and_students_publish_no_slots(app, signed_in):
    for name in ("parent1", "student1"):
        refused = post(signed_in(name), "/api/v1/appointment-slots", slot_body(mode="video"))
        assert refused.status_code == 403


def test_booking_refusals(app, signed_in):
    teacher, parent = signed_in("t_S0101_6"), signed_in("parent1")
    slot_id = post(teacher, "/api/v1/appointment-slots", slot_body(mode="video")).get_json()["id"]
    before = counts(app)
    # another class's teacher: parent1 may not message them, so the slot is not theirs to see
    assert (
        post(parent, "/api/v1/appointments", {"slot_id": slot_id, "reason": "x"}).status_code == 404
    )
    assert (
        post(parent, "/api/v1/appointments", {"slot_id": 99999999, "reason": "x"}).status_code
        == 404
    )
    too_long = post(
        signed_in("g_S0101_6_01"),
        "/api/v1/appointments",
        {"slot_id": slot_id, "reason": "长" * 501},
    )
    assert too_long.status_code == 422
    assert post(parent, "/api/v1/appointments", {"slot_id": slot_id}).status_code == 422
    assert counts(app) == before


def test_a_teacher_invites_a_guardian(app, signed_in):
    teacher = signed_in("teacher1")
    slot_id = post(teacher, "/api/v1/appointment-slots", slot_body(mode="video")).get_json()["id"]
    with app.app_context():
        parent_id, stranger_id = user("parent1").id, user("g_S0102_7_01").id
    refused = post(
        teacher,
        "/api/v1/appointments",
        {"slot_id": slot_id, "reason": "期中", "guardian_id": stranger_id},
    )
    assert refused.status_code == 404
    made = post(
        teacher,
        "/api/v1/appointments",
        {"slot_id": slot_id, "reason": "期中", "guardian_id": parent_id},
    )
    assert made.status_code == 201
    [row] = signed_in("parent1").get("/api/v1/appointments").get_json()["appointments"]
    assert row["invited"] is True and row["staff_name"] == "李老师"


def test_withdrawing_a_booked_slot_cancels_its_appointment(app, signed_in):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    slot_id = post(teacher, "/api/v1/appointment-slots", slot_body(mode="video")).get_json()["id"]
    post(parent, "/api/v1/appointments", {"slot_id": slot_id, "reason": "想聊"})
    assert post(parent, f"/api/v1/appointment-slots/{slot_id}/withdraw").status_code == 404
    assert post(teacher, f"/api/v1/appointment-slots/{slot_id}/withdraw").status_code == 200
    [row] = parent.get("/api/v1/appointments").get_json()["appointments"]
    assert row["status"] == "cancelled"


def test_the_operations_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/appointment-slots"])
    booking = paths["/api/v1/appointments"]["post"]
    assert {"201", "409", "404"} <= set(booking["responses"])
    assert "/api/v1/appointments/{appointment_id}/cancel" in paths
    assert "/api/v1/appointments/{appointment_id}/notes" in paths
    body = spec["components"]["schemas"]["AppointmentCreate"]
    assert {"slot_id", "reason"} <= set(body["required"])
