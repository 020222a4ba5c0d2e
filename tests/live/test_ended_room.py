"""An ended lecture looks ended: its room says so with the end time, promises no video, offers no
chat, questions or hands (and the server refuses them), and links the recording once it is ready;
someone in the room when it ends sees it switch."""

from __future__ import annotations

from datetime import UTC, datetime

from elearn.extensions import db
from live import service
from live.models import LectureStatus
from live.service import broadcast
from tests.conftest import user
from tests.live.conftest import create_lecture, unit_id
from tests.live.helpers import make_lecture
from tests.live.test_recording import _streamed_lecture

ENDED = datetime(2030, 3, 1, 13, 30, tzinfo=UTC)  # 21:30 in Asia/Shanghai


def _ended_lecture(app, *, recording: bool) -> tuple[int, int | None]:
    with app.test_request_context():
        if recording:
            lecture, _asset = _streamed_lecture(title="已结束的直播")
            assert broadcast.publish_recording(lecture) == "published"
        else:
            lecture = make_lecture(title="已结束的直播")
            service.set_status(actor=user("expert1"), lecture=lecture, status=LectureStatus.ENDED)
        lecture.ended_at = ENDED
        db.session.commit()
        return lecture.id, lecture.recording_lesson_id


def test_an_ended_lecture_says_so_and_offers_nothing_to_type_into(app, signed_in):
    lecture_id, _ = _ended_lecture(app, recording=False)
    page = signed_in("student1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert '<b id="live-status-text">已结束</b>' in page
    assert "结束于 2030/3/1 21:30" in page
    assert "这节直播课已结束" in page and "回放正在生成" in page
    assert 'id="live-recording" hidden' in page  # no recording yet
    for offered in ('id="live-video"', "直播开始后", 'id="chat-form"', 'id="question-form"',
                    'id="raise-hand"', 'id="class-screen-form"', "viewer.js"):  # fmt: skip
        assert offered not in page, offered
    teacher = signed_in("teacher1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert 'id="class-screen-form"' not in teacher
    host = signed_in("expert1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    for offered in ('id="go-live"', 'id="poll-form"', 'id="quiz-form"', 'id="chat-form"'):
        assert offered not in host, offered


def test_a_lecture_not_ended_shows_its_status_without_waiting_for_the_socket(app, signed_in):
    with app.test_request_context():
        lecture = make_lecture(title="即将开始的直播")
        db.session.commit()
        lecture_id = lecture.id
    page = signed_in("student1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert '<b id="live-status-text">未开始</b>' in page
    assert 'id="chat-form"' in page and 'id="live-video"' in page and 'id="raise-hand"' in page


def test_the_recording_is_linked_once_ready(app, signed_in):
    lecture_id, lesson_id = _ended_lecture(app, recording=True)
    page = signed_in("student1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert f'id="live-recording" href="/lessons/{lesson_id}"' in page
    assert 'id="live-recording-wait" hidden' in page and "已结束" in page


def test_the_room_switches_when_it_ends_and_refuses_what_would_post(live_url, token, peers):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}])
    expert = peers(live_url).connect(token=token("expert1"))
    student = peers(live_url).connect(token=token("student1"))
    for peer in (expert, student):
        assert peer.call("join", {"lecture_id": lecture_id})["ok"]
    assert expert.call("go_live")["ok"]
    asked = student.call("question", {"text": "毒品有哪些伪装？"})
    assert asked["ok"], asked
    assert expert.call("end")["ok"]
    ended = student.wait_for(
        lambda: [s for s in student.got("settings") if s["status"] == "ended"], "the end"
    )[-1]
    assert ended["ended_at"] and ended["ended_at"].endswith("+00:00")
    question_id = asked["message"]["id"]
    for event, data in (
        ("chat", {"text": "还能说话吗"}),
        ("question", {"text": "还能提问吗"}),
        ("hand", {}),
        ("upvote", {"message_id": question_id}),
    ):
        reply = student.call(event, data)
        assert reply == {"ok": False, "error": "这节直播课已结束。"}, (event, reply)
    # someone opening the room afterwards joins it read-only: the history, and nothing to add
    late = peers(live_url).connect(token=token("s_S0101_5_02"))
    joined = late.call("join", {"lecture_id": lecture_id})
    assert joined["ok"] and joined["settings"]["status"] == "ended"
    assert [m["text"] for m in joined["messages"] if m["kind"] == "question"] == [
        "毒品有哪些伪装？"
    ]
    assert late.call("chat", {"text": "你好"})["ok"] is False
