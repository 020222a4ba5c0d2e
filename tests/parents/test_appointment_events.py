"""A video appointment's call signalling over /messages, against the real server (gunicorn +
gevent, Redis queue): relayed between the two parties of a confirmed video appointment only;
refused otherwise, and then nothing is emitted to anyone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tests.parents.conftest import Api

#: the slots of one run must not overlap (teacher1's, on the shared server): one day each
_DAYS = itertools.count(20)
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def booked(teacher: Api, parent: Api, mode: str = "video") -> int:
    """A slot of the teacher's tomorrow-or-later, booked by the parent: the appointment id."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=next(_DAYS))
    made = teacher.call(
        "POST",
        "/appointment-slots",
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=30)).isoformat(),
            "mode": mode,
            "place": "五年级办公室" if mode == "in_person" else "",
        },
    )
    assert made.status_code == 201, made.text
    booking = parent.call(
        "POST", "/appointments", {"slot_id": made.json()["id"], "reason": "视频约谈"}
    )
    assert booking.status_code == 201, booking.text
    return int(booking.json()["id"])


def of(peer, name: str) -> list[dict]:
    return [data for event, data in peer.events if event == name]


def test_the_two_parties_signal_each_other(live_url, peers):
    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    appointment = booked(teacher, parent)
    teacher_socket = peers(live_url).connect(token=teacher.token)
    parent_socket = peers(live_url).connect(token=parent.token)

    ready = parent_socket.call("call.ready", {"appointment_id": appointment})
    assert ready == {"ok": True, "caller": False}, ready
    teacher_socket.wait_for(lambda: of(teacher_socket, "call.ready"), "the guardian's ready")
    offer = {"type": "offer", "sdp": SDP}
    assert teacher_socket.call("call.offer", {"appointment_id": appointment, "description": offer})[
        "ok"
    ]
    [got] = parent_socket.wait_for(lambda: of(parent_socket, "call.offer"), "the offer")
    assert got["description"] == offer and got["appointment_id"] == appointment
    answer = {"type": "answer", "sdp": SDP}
    assert parent_socket.call(
        "call.answer", {"appointment_id": appointment, "description": answer}
    )["ok"]
    teacher_socket.wait_for(lambda: of(teacher_socket, "call.answer"), "the answer")
    candidate = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
                 "sdpMid": "0", "sdpMLineIndex": 0}  # fmt: skip
    ice = teacher_socket.call("call.ice", {"appointment_id": appointment, "candidate": candidate})
    assert ice["ok"], ice
    [relayed] = parent_socket.wait_for(lambda: of(parent_socket, "call.ice"), "the candidate")
    assert relayed["candidate"]["candidate"] == candidate["candidate"]
    assert parent_socket.call("call.hangup", {"appointment_id": appointment})["ok"]
    teacher_socket.wait_for(lambda: of(teacher_socket, "call.hangup"), "the hang-up")
    # each side heard only the other's events, never its own
    assert not of(parent_socket, "call.ready") and not of(teacher_socket, "call.offer")


def test_refused_signalling_emits_nothing(live_url, peers):
    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    admin = Api(live_url, "school_admin")
    video = booked(teacher, parent)
    in_person = booked(teacher, parent, mode="in_person")
    cancelled = booked(teacher, parent)
    assert parent.call("POST", f"/appointments/{cancelled}/cancel", {}).status_code == 200

    teacher_socket = peers(live_url).connect(token=teacher.token)
    parent_socket = peers(live_url).connect(token=parent.token)
    admin_socket = peers(live_url).connect(token=admin.token)
    other_guardian = peers(live_url).connect(token=Api(live_url, "g_S0101_5_02").token)
    offer = {"type": "offer", "sdp": SDP}

    refusals = [
        # not a party (an admin over the school, another guardian of the class)
        (admin_socket, "call.offer", {"appointment_id": video, "description": offer}),
        (other_guardian, "call.ready", {"appointment_id": video}),
        (admin_socket, "call.hangup", {"appointment_id": video}),
        # a party, but no call: in person, cancelled, no such appointment
        (teacher_socket, "call.offer", {"appointment_id": in_person, "description": offer}),
        (teacher_socket, "call.ready", {"appointment_id": cancelled}),
        (parent_socket, "call.ice", {"appointment_id": 2_000_000_000, "candidate": None}),
        # a party of the call, with what is not signalling
        (teacher_socket, "call.offer", {"appointment_id": video, "description": "x"}),
        (teacher_socket, "call.answer", {"appointment_id": video, "description": offer}),
        (
            teacher_socket,
            "call.offer",
            {
                "appointment_id": video,
                "description": {"type": "offer", "sdp": "x" * (64 * 1024 + 1)},
            },
        ),  # fmt: skip
        (teacher_socket, "call.ice", {"appointment_id": video, "candidate": {"candidate": 5}}),
        (teacher_socket, "call.ready", {"appointment_id": "1"}),
    ]
    for socket, event, data in refusals:
        answer = socket.call(event, data)
        assert answer["ok"] is False and answer["error"], (event, data, answer)

    # a signal that is allowed, sent after the refusals: once it has arrived, anything the
    # refusals had emitted would have arrived before it
    assert parent_socket.call("call.ready", {"appointment_id": video})["ok"]
    teacher_socket.wait_for(lambda: of(teacher_socket, "call.ready"), "the allowed signal")
    signals = [
        (peer, event)
        for peer in (teacher_socket, parent_socket, admin_socket, other_guardian)
        for event, _data in peer.events
        if event.startswith("call.")
    ]
    assert [(peer is teacher_socket, event) for peer, event in signals] == [(True, "call.ready")]
