"""live.service without HTTP: audience, room rules, polls, attendance and the training fact."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from elearn.extensions import db
from elearn.service import accounts
from elearn.service.errors import ServiceError
from live import service
from live.models import LectureStatus, MessageKind
from tests.conftest import unit_by_code, user
from tests.live.helpers import make_lecture

OTHER_COUNTY_STUDENT = "s_S0201_5_01"


def test_audience_is_everyone_under_the_units(ctx):
    lecture = make_lecture()
    assert service.in_audience(user("student1"), lecture)
    assert service.in_audience(user("parent1"), lecture)
    assert not service.in_audience(user(OTHER_COUNTY_STUDENT), lecture)
    assert service.lecture_rule(user("pref_admin"), "view", lecture)  # oversees the owner unit
    assert not service.lecture_rule(user(OTHER_COUNTY_STUDENT), "view", lecture)


def test_audience_role_narrows_it(ctx):
    lecture = make_lecture(audience=[{"role": "teacher"}], is_training=True)
    assert service.in_audience(user("teacher1"), lecture)
    assert service.in_audience(user("t_S0201_5"), lecture)  # all teachers of the prefecture
    assert not service.in_audience(user("student1"), lecture)
    ids = [lec.id for lec in service.upcoming_for(user("teacher1"))]
    assert lecture.id in ids
    assert lecture.id not in [lec.id for lec in service.upcoming_for(user("student1"))]


def test_only_hosts_roles_schedule_and_only_within_scope(ctx):
    with pytest.raises(ServiceError) as refused:
        make_lecture("student1", audience=[{"unit_id": unit_by_code("S0101").id}])
    assert refused.value.status == 403
    with pytest.raises(ServiceError):
        make_lecture("teacher1", audience=[{"unit_id": unit_by_code("S0201").id}])
    with pytest.raises(ServiceError):
        make_lecture(audience=[{"role": "county_admin"}])
    with pytest.raises(ServiceError):
        make_lecture(audience=[])
    lecture = make_lecture("teacher1", audience=[{"unit_id": unit_by_code("S0101").id}])
    assert service.is_host(user("teacher1"), lecture)


def test_chat_rules(ctx):
    lecture = make_lecture()
    student, expert = user("student1"), user("expert1")
    with pytest.raises(ServiceError):
        service.post_message(actor=student, lecture=lecture, kind=MessageKind.CHAT, text="x" * 501)
    with pytest.raises(ServiceError):
        service.post_message(actor=student, lecture=lecture, kind=MessageKind.CHAT, text="   ")
    service.moderate(
        actor=expert, lecture=lecture, data={"action": "word_filter", "words": ["Bad"]}
    )
    said = service.post_message(
        actor=student, lecture=lecture, kind=MessageKind.CHAT, text="a BAD word"
    )
    assert said.text == "a *** word"
    service.moderate(actor=expert, lecture=lecture, data={"action": "chat", "enabled": False})
    with pytest.raises(ServiceError):
        service.post_message(actor=student, lecture=lecture, kind=MessageKind.CHAT, text="hi")
    # questions still go through, and hosts may always speak
    service.post_message(actor=student, lecture=lecture, kind=MessageKind.QUESTION, text="why?")
    service.post_message(actor=expert, lecture=lecture, kind=MessageKind.CHAT, text="welcome")
    service.moderate(actor=expert, lecture=lecture, data={"action": "mute", "user_id": student.id})
    with pytest.raises(ServiceError) as muted:
        service.post_message(actor=student, lecture=lecture, kind=MessageKind.QUESTION, text="?")
    assert muted.value.status == 403
    with pytest.raises(ServiceError):
        service.moderate(actor=student, lecture=lecture, data={"action": "chat", "enabled": True})


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block (savepoints of the test's transaction left out)."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def test_a_chat_line_takes_four_statements(ctx):
    """Each round trip of a chat line waits behind the room's fan-out (``python -m bench live``):
    the login with its user, the lecture with its co-hosts, the sanctions, the insert;
    the line is serialised without reloading anything."""
    lecture_id = make_lecture().id
    token, _expires = accounts.issue_api_token(user=user("student1"), hours=1)
    db.session.commit()
    db.session.expunge_all()  # a new event starts from an empty session
    with statements() as seen:
        actor = accounts.load_token_user(token).user
        assert actor is not None
        room_lecture = service.room_lecture(lecture_id)
        assert room_lecture is not None and not service.is_host(actor, room_lecture)
        message = service.post_message(
            actor=actor, lecture=room_lecture, kind=MessageKind.CHAT, text="老师好"
        )
        body = service.message_json(message)
    assert len(seen) == 4, seen
    assert body["id"] == message.id and body["text"] == "老师好"
    assert body["author"] == {"id": actor.id, "name": actor.display_name}


def test_slow_mode(ctx):
    lecture = make_lecture()
    student, expert = user("student1"), user("expert1")
    service.moderate(actor=expert, lecture=lecture, data={"action": "slow_mode", "seconds": 30})
    now = datetime.now(UTC)
    service.post_message(actor=student, lecture=lecture, kind=MessageKind.CHAT, text="1", now=now)
    with pytest.raises(ServiceError) as slow:
        service.post_message(
            actor=student,
            lecture=lecture,
            kind=MessageKind.CHAT,
            text="2",
            now=now + timedelta(seconds=10),
        )
    assert slow.value.status == 429
    service.post_message(
        actor=student,
        lecture=lecture,
        kind=MessageKind.CHAT,
        text="3",
        now=now + timedelta(seconds=31),
    )


def test_ban_refuses_join_and_hosts_cannot_be_banned(ctx):
    lecture = make_lecture()
    student, expert = user("student1"), user("expert1")
    service.check_can_join(student, lecture)
    service.moderate(actor=expert, lecture=lecture, data={"action": "ban", "user_id": student.id})
    with pytest.raises(ServiceError) as banned:
        service.check_can_join(student, lecture)
    assert banned.value.status == 403
    with pytest.raises(ServiceError):
        service.moderate(
            actor=expert, lecture=lecture, data={"action": "ban", "user_id": expert.id}
        )
    with pytest.raises(ServiceError) as outsider:
        service.check_can_join(user(OTHER_COUNTY_STUDENT), lecture)
    assert outsider.value.status == 404


def test_replay_hides_hands_from_viewers(ctx):
    lecture = make_lecture()
    student, expert = user("student1"), user("expert1")
    first = service.post_message(actor=student, lecture=lecture, kind=MessageKind.CHAT, text="1")
    service.raise_hand(actor=student, lecture=lecture)
    service.post_message(actor=student, lecture=lecture, kind=MessageKind.QUESTION, text="2")
    kinds = [m.kind for m in service.replay(actor=student, lecture=lecture, after_id=first.id)]
    assert kinds == ["question"]
    kinds = [m.kind for m in service.replay(actor=expert, lecture=lecture, after_id=first.id)]
    assert kinds == ["hand", "question"]


def test_polls_one_vote_each_tallied(ctx):
    lecture = make_lecture()
    expert = user("expert1")
    poll = service.start_poll(
        actor=expert, lecture=lecture, question="吸毒违法吗？", choices=["是", "否"]
    )
    with pytest.raises(ServiceError):
        service.start_poll(
            actor=user("student1"), lecture=lecture, question="q", choices=["a", "b"]
        )
    service.vote(actor=user("student1"), lecture=lecture, poll=poll, choice=0)
    service.vote(actor=user("parent1"), lecture=lecture, poll=poll, choice=0)
    service.vote(actor=user("teacher1"), lecture=lecture, poll=poll, choice=1)
    with pytest.raises(ServiceError):
        service.vote(actor=user("student1"), lecture=lecture, poll=poll, choice=1)
    with pytest.raises(ServiceError):
        service.vote(actor=user("school_admin"), lecture=lecture, poll=poll, choice=2)
    summary = service.poll_summary(poll)
    assert summary["counts"] == [2, 1] and summary["total"] == 3
    assert service.current_poll(lecture).id == poll.id
    service.end_poll(actor=expert, lecture=lecture, poll=poll)
    with pytest.raises(ServiceError):
        service.vote(actor=user("county_admin"), lecture=lecture, poll=poll, choice=0)
    assert service.current_poll(lecture) is None


def test_attendance_merges_overlapping_connections(ctx):
    lecture = make_lecture()
    student = user("student1")
    t0 = datetime.now(UTC)
    service.open_interval(actor=student, lecture=lecture, sid="a", now=t0)
    service.open_interval(actor=student, lecture=lecture, sid="b", now=t0 + timedelta(seconds=60))
    service.close_interval(sid="a", now=t0 + timedelta(seconds=120))
    attendance = service.close_interval(sid="b", now=t0 + timedelta(seconds=300))
    assert attendance is not None and attendance.watched_seconds == 300  # not 120 + 240
    assert service.close_interval(sid="b") is None


def test_class_screen_needs_the_class_teacher_and_a_headcount(ctx):
    from elearn.service import org

    lecture = make_lecture()
    klass = org.find_child(org.find_child(unit_by_code("S0101"), code="G5"), code="5-1")
    with pytest.raises(ServiceError):
        service.open_interval(
            actor=user("student1"), lecture=lecture, sid="s", class_unit=klass, headcount=30
        )
    with pytest.raises(ServiceError):
        service.open_interval(
            actor=user("teacher1"), lecture=lecture, sid="t", class_unit=klass, headcount=0
        )
    service.open_interval(
        actor=user("teacher1"), lecture=lecture, sid="t", class_unit=klass, headcount=38
    )
    service.open_interval(actor=user("student1"), lecture=lecture, sid="u")
    assert service.watching_now(lecture) == {"screens": 2, "people": 39}
    report = service.attendance_report(actor=user("expert1"), lecture=lecture)
    assert (
        report["class_screens"] == 1 and report["class_headcount"] == 38 and report["people"] == 1
    )


def test_training_lecture_records_teacher_trained(ctx):
    from elearn.models import FactKind
    from elearn.service import coverage, org

    lecture = make_lecture(audience=[{"role": "teacher"}], is_training=True)
    expert, teacher, late = user("expert1"), user("teacher1"), user("t_S0201_5")
    service.set_status(actor=expert, lecture=lecture, status=LectureStatus.LIVE)
    start = datetime.now(UTC) - timedelta(minutes=50)
    lecture.started_at = start
    service.open_interval(actor=teacher, lecture=lecture, sid="t1", now=start)
    service.open_interval(actor=late, lecture=lecture, sid="t2", now=start + timedelta(minutes=40))
    service.set_status(actor=expert, lecture=lecture, status=LectureStatus.ENDED)
    term = org.current_term()
    assert coverage.has_fact(FactKind.TEACHER_TRAINED, teacher.id, term)
    assert not coverage.has_fact(FactKind.TEACHER_TRAINED, late.id, term)
    with pytest.raises(ServiceError):
        service.post_message(actor=teacher, lecture=lecture, kind=MessageKind.CHAT, text="late")
