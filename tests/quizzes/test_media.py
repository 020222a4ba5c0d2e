"""Questions carrying a picture or a recording from ``media``: attached on the edit page, served
to the attempt through a short-lived signed URL, never with answer data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from elearn.extensions import db
from quizzes.models import QuestionVersion
from tests.conftest import post_form, user
from tests.quizzes.conftest import SECRET, bearer


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("question-media")
    found = {"image": root / "pic.png", "audio": root / "tone.wav", "video": root / "clip.mp4"}
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", str(found["image"]))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(found["audio"]))
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:duration=1", "-pix_fmt", "yuv420p",
        "-c:v", "libx264", str(found["video"]),
    )  # fmt: skip
    return found


def single_choice_quiz():
    """A published quiz with one single-choice question for student1's class (call in a context).

    Not the ``quiz_factory`` fixture: it keeps a request context pushed for the whole test, so
    every client request would share one ``g`` and the first signed-in user with it.
    """
    from datetime import UTC, datetime, timedelta

    from elearn.models import Role
    from quizzes import service
    from tests.conftest import unit_by_code
    from tests.quizzes.conftest import secret_drafts

    teacher = user("teacher1")
    klass = next(a.unit for a in teacher.roles if a.role == Role.TEACHER)
    bank = service.create_bank(actor=teacher, name="测试题库", unit=unit_by_code("S0101"))
    draft = next(d for d in secret_drafts() if d.type == "single_choice")
    question = service.add_question(actor=teacher, bank=bank, draft=draft)
    now = datetime.now(UTC)
    return service.create_quiz(
        actor=teacher,
        unit=klass,
        title="带图片的测验",
        items=[{"question_id": question.id, "mark": 2}],
        audience=[(klass, Role.STUDENT)],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        publish=True,
    )


def ingest(username: str, path: Path, content_type: str):
    from media import pipeline

    asset = pipeline.ingest_file(actor=user(username), path=path, content_type=content_type)
    db.session.commit()
    return asset


def edit(client, question_id: int, **extra):
    return post_form(
        client,
        f"/quizzes/questions/{question_id}",
        {
            "stem": "国际禁毒日是哪一天？",
            "option_a": "6月26日",
            "option_b": "12月1日",
            "answer": "A",
            "mark": "1",
            **extra,
        },
        page=f"/quizzes/questions/{question_id}",
    )


def current_version(question_id: int) -> QuestionVersion:
    return db.session.scalar(
        select(QuestionVersion)
        .where(QuestionVersion.question_id == question_id)
        .order_by(QuestionVersion.number.desc())
        .limit(1)
    )


@pytest.mark.parametrize(
    ("kind", "content_type", "served"),
    [("image", "image/png", "image/png"), ("audio", "audio/wav", "application/vnd.apple.mpegurl")],
)
def test_a_question_carries_media_into_the_attempt(
    app, client, signed_in, files, kind, content_type, served
):
    with app.test_request_context():
        quiz = single_choice_quiz()
        question_id, quiz_id = quiz.items[0].question_id, quiz.id
        asset = ingest("teacher1", files[kind], content_type)
        assert asset.status == "ready", asset.reason
        asset_id = asset.id
        db.session.commit()
    teacher = signed_in("teacher1")
    saved = edit(teacher, question_id, media_asset_id=asset_id)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:1500]
    with app.test_request_context():
        version = current_version(question_id)
        assert version.number == 2 and version.media_asset_id == asset_id
        headers = bearer("student1")
    started = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers)
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    media = body["questions"][0]["media"]
    assert media["kind"] == kind and media["url"]
    assert SECRET not in json.dumps(body) and "opt-right" not in json.dumps(media)
    assert asset_id not in media["url"]  # a signed token, not a guessable path
    fetched = client.get(media["url"])
    assert fetched.status_code == 200 and fetched.mimetype == served
    # the attempt page shows it: a picture, or an audio player
    page = signed_in("student1").get(f"/quizzes/attempts/{body['attempt_id']}")
    html = page.get_data(as_text=True)
    assert ("<img src=" if kind == "image" else "<audio") in html
    # a tampered URL is refused
    assert client.get(media["url"][:-6] + "xxxxxx").status_code in (403, 404)


def test_a_video_cannot_be_attached(app, signed_in, files):
    with app.test_request_context():
        quiz = single_choice_quiz()
        question_id = quiz.items[0].question_id
        video = ingest("teacher1", files["video"], "video/mp4").id
        db.session.commit()
    teacher = signed_in("teacher1")
    assert edit(teacher, question_id, media_asset_id=video).status_code == 422
    with app.test_request_context():
        assert current_version(question_id).number == 1


def test_someone_elses_upload_cannot_be_attached(app, signed_in, files):
    with app.test_request_context():
        quiz = single_choice_quiz()
        question_id = quiz.items[0].question_id
        others = ingest("pref_admin", files["image"], "image/png").id
        db.session.commit()
    assert edit(signed_in("teacher1"), question_id, media_asset_id=others).status_code == 422
    with app.test_request_context():
        assert current_version(question_id).number == 1


def test_removing_the_media_makes_a_version_without_it(app, signed_in, files):
    with app.test_request_context():
        quiz = single_choice_quiz()
        question_id = quiz.items[0].question_id
        asset_id = ingest("teacher1", files["image"], "image/png").id
        db.session.commit()
    teacher = signed_in("teacher1")
    assert edit(teacher, question_id, media_asset_id=asset_id).status_code == 302
    assert edit(teacher, question_id).status_code == 302  # kept when not touched
    assert edit(teacher, question_id, remove_media="y").status_code == 302
    with app.test_request_context():
        versions = db.session.scalars(
            select(QuestionVersion.media_asset_id)
            .where(QuestionVersion.question_id == question_id)
            .order_by(QuestionVersion.number)
        ).all()
        assert versions == [None, asset_id, asset_id, None]
