"""Messages with a picture, a file or a voice recording (media assets, uploaded with purpose
"attachment"): every refusal is a clear 4xx with nothing written; the attachment's short-lived
URL reaches exactly those who may see the message (members, reviewers, a guardian reading their
child's conversation), not a held message's recipients, not a recalled one's."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import func, select

from elearn import uow
from elearn.extensions import db
from elearn.service.errors import ServiceError
from media import service as media_service
from media import tasks
from media.models import Asset
from media.storage import get_storage
from parents.interaction import delivery, service
from parents.interaction.models import Conversation, Message, MessageStatus
from tests.conftest import csrf_token, user
from tests.media.conftest import make_pdf


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, timeout=60)  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("attachments")
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=2", "-ac", "1",
            "-c:a", "libopus", "-f", "webm", str(root / "voice.webm"))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", str(root / "pic.png"))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            str(root / "clip.mp4"))  # fmt: skip
    return {
        "voice": (root / "voice.webm").read_bytes(),
        "image": (root / "pic.png").read_bytes(),
        "video": (root / "clip.mp4").read_bytes(),
        "pdf": make_pdf(1),
    }


TYPES = {"voice": "audio/webm", "image": "image/png", "pdf": "application/pdf"}
NAMES = {"voice": "语音.webm", "image": "照片.png", "pdf": "通知.pdf", "video": "clip.mp4"}


def attachment(owner: str, data: bytes, kind: str, *, process: bool = True,
               purpose: str = "attachment") -> Asset:  # fmt: skip
    """An upload as the browser makes it, processed by the media task (run here)."""
    actor = user(owner)
    storage = get_storage()
    asset = media_service.create_upload(
        actor=actor, filename=NAMES[kind], size=len(data),
        content_type=TYPES.get(kind, "video/mp4"), purpose=purpose,
    )  # fmt: skip
    for part in media_service.upload_plan(asset)["parts"]:
        chunk = data[part["offset"] : part["offset"] + part["size"]]
        storage.write_part(asset.source_key, asset.upload_id, part["number"], iter([chunk]),
                           max_bytes=asset.part_size)  # fmt: skip
    media_service.complete_upload(actor=actor, asset=asset)
    db.session.flush()
    asset_id = asset.id
    if process:
        tasks.process_asset(asset_id)
        db.session.expire_all()
    found = db.session.get(Asset, asset_id)
    assert found is not None
    return found


def message_count() -> int:
    return int(db.session.scalar(select(func.count(Message.id))) or 0)


def told(event: str = "message") -> list[tuple[list[str], dict]]:
    return [
        (kwargs["to"], args[1])
        for _func, args, kwargs in uow.pending()
        if args and args[0] == event and kwargs.get("namespace") == delivery.NAMESPACE
    ]


@pytest.fixture
def direct(ctx) -> int:
    """teacher1 and parent1's conversation, by id (processing an upload ends the session's unit:
    get it again after)."""
    made = service.start_conversation(actor=user("teacher1"), participants=[user("parent1")])
    db.session.flush()
    return made.id


def conv(conversation_id: int) -> Conversation:
    found = db.session.get(Conversation, conversation_id)
    assert found is not None
    return found


# --- sending -------------------------------------------------------------------------------------


def test_a_parent_replies_by_voice_and_every_member_hears_it(direct, files):
    voice = attachment("parent1", files["voice"], "voice")
    assert voice.status == "ready" and voice.kind == "audio", voice.reason
    message = service.post_message(actor=user("parent1"), conversation=conv(direct), asset=voice)
    assert message.status == MessageStatus.DELIVERED
    assert message.text == "" and message.asset_id == voice.id
    [(rooms, data)] = told()
    assert sorted(rooms) == sorted(delivery.user_room(user(n).id) for n in ("teacher1", "parent1"))
    shown = data["message"]["attachment"]
    assert shown["kind"] == "audio" and shown["name"] == "语音.webm"
    assert shown["url"] and abs(shown["duration"] - 2.0) < 0.3
    assert data["message"]["asset_id"] == voice.id


def test_text_and_a_picture_or_a_file_in_one_message(direct, files):
    picture = attachment("teacher1", files["image"], "image")
    message = service.post_message(
        actor=user("teacher1"), conversation=conv(direct), text="今天的板书", asset=picture
    )
    shown = delivery.payload(message, show_text=True)
    assert shown["text"] == "今天的板书"
    assert shown["attachment"]["kind"] == "image" and shown["attachment"]["width"] == 320
    document = attachment("teacher1", files["pdf"], "pdf")
    sent = service.post_message(actor=user("teacher1"), conversation=conv(direct), asset=document)
    shown = delivery.payload(sent, show_text=True)["attachment"]
    assert shown["kind"] == "document" and shown["name"] == "通知.pdf" and shown["pages"] == 1


# --- refusals: each a clear 4xx, nothing written ---------------------------------------------------


def refused(actor: str, conversation_id: int, asset: Asset | None, text: str = "") -> ServiceError:
    before = message_count()
    with pytest.raises(ServiceError) as caught:
        service.post_message(
            actor=user(actor), conversation=conv(conversation_id), text=text, asset=asset
        )
    assert message_count() == before
    assert told() == []
    return caught.value


def test_another_persons_upload_is_refused(direct, files):
    theirs = attachment("teacher1", files["image"], "image")
    error = refused("parent1", direct, theirs, "看看这个")
    assert error.status == 422 and error.field == "asset_id"
    assert "上传" in error.message or "uploads" in error.message


def test_a_video_is_no_attachment(direct, files):
    clip = attachment("teacher1", files["video"], "video", purpose="media")
    assert clip.status == "ready" and clip.kind == "video"
    assert refused("teacher1", direct, clip).status == 415


def test_a_file_over_the_roles_limit_is_refused(app, direct, files):
    voice = attachment("parent1", files["voice"], "voice")
    # the families' limit lowered since the upload (ELEARN_MEDIA_ATTACHMENT_LIMIT_FAMILY)
    kept = app.config["MEDIA_ATTACHMENT_LIMIT_FAMILY"]
    app.config["MEDIA_ATTACHMENT_LIMIT_FAMILY"] = (voice.size or 0) - 1
    try:
        error = refused("parent1", direct, voice)
    finally:
        app.config["MEDIA_ATTACHMENT_LIMIT_FAMILY"] = kept
    assert error.status == 413 and "MB" in error.message


def test_a_hostile_file_is_refused_with_medias_reason(direct):
    junk = b"\x1a\x45\xdf\xa3" + b"\x9f\x42\x86\x81\x01" + bytes(range(256)) * 40
    hostile = attachment("parent1", junk, "voice")
    assert hostile.status == "failed"
    error = refused("parent1", direct, hostile)
    assert error.status == 422 and error.message == media_service.reason_text(hostile)


def test_an_upload_still_processing_is_refused_until_ready(direct, files):
    voice = attachment("parent1", files["voice"], "voice", process=False)
    assert voice.status == "processing"
    voice_id = voice.id
    assert refused("parent1", direct, voice).status == 409
    tasks.process_asset(voice_id)
    db.session.expire_all()
    sent = service.post_message(
        actor=user("parent1"), conversation=conv(direct), asset=db.session.get(Asset, voice_id)
    )
    assert sent.asset_id == voice_id


def test_an_attachment_is_sent_once(direct, files):
    picture = attachment("teacher1", files["image"], "image")
    service.post_message(actor=user("teacher1"), conversation=conv(direct), asset=picture)
    before = message_count()
    with pytest.raises(ServiceError) as caught:
        service.post_message(actor=user("teacher1"), conversation=conv(direct), asset=picture)
    assert caught.value.status == 409 and message_count() == before
    assert len(told()) == 1  # the first message's only


def test_nothing_at_all_is_no_message(direct):
    assert refused("parent1", direct, None).status == 422


# --- who gets the attachment's URL (the API) --------------------------------------------------------


def post(client, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": csrf_token(client, "/")})


def made_upload(app, owner: str, data: bytes, kind: str) -> str:
    with app.test_request_context():
        return attachment(owner, data, kind).id


def listed(client, conversation_id: int) -> dict[int, dict]:
    response = client.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {m["id"]: m for m in response.get_json()["items"]}


def test_members_and_reviewers_get_the_url_a_stranger_gets_404(app, signed_in, files):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    with app.app_context():
        parent_id = user("parent1").id
    conversation_id = post(
        teacher, "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    voice_id = made_upload(app, "parent1", files["voice"], "voice")
    sent = post(parent, f"/api/v1/conversations/{conversation_id}/messages", {"asset_id": voice_id})
    assert sent.status_code == 201, sent.get_json()
    message_id = sent.get_json()["id"]
    for viewer in (teacher, parent):
        shown = listed(viewer, conversation_id)[message_id]
        assert shown["asset_id"] == voice_id and shown["text"] == ""
        assert shown["attachment"]["kind"] == "audio"
        played = viewer.get(shown["attachment"]["url"])
        assert played.status_code == 200 and played.headers["Content-Type"].startswith("audio/mp4")
    for stranger in ("t_S0102_7", "g_S0101_5_02", "t_S0101_6"):
        response = signed_in(stranger).get(f"/api/v1/conversations/{conversation_id}/messages")
        assert response.status_code == 404, stranger


def test_a_guardian_reading_their_childs_conversation_sees_its_picture(app, signed_in, files):
    with app.test_request_context():
        thread = service.start_conversation(actor=user("teacher1"), participants=[user("student1")])
        thread_id = thread.id
        db.session.commit()
    picture_id = made_upload(app, "teacher1", files["image"], "image")
    sent = post(signed_in("teacher1"), f"/api/v1/conversations/{thread_id}/messages",
                {"text": "作业照片", "asset_id": picture_id})  # fmt: skip
    assert sent.status_code == 201
    shown = listed(signed_in("parent1"), thread_id)[sent.get_json()["id"]]
    assert shown["attachment"]["kind"] == "image" and shown["attachment"]["url"]
    response = signed_in("g_S0101_5_02").get(f"/api/v1/conversations/{thread_id}/messages")
    assert response.status_code == 404


def test_a_held_messages_attachment_stays_with_its_sender_and_the_reviewers(app, signed_in, files):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    with app.app_context():
        parent_id = user("parent1").id
    conversation_id = post(
        teacher, "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    picture_id = made_upload(app, "parent1", files["image"], "image")
    sent = post(parent, f"/api/v1/conversations/{conversation_id}/messages",
                {"text": "低价出货，货到付款", "asset_id": picture_id})  # fmt: skip
    assert sent.get_json()["status"] == "held"
    message_id = sent.get_json()["id"]
    assert message_id not in listed(teacher, conversation_id)
    assert listed(parent, conversation_id)[message_id]["attachment"]["kind"] == "image"
    review = signed_in("school_admin").get("/api/v1/messages/held").get_json()["items"]
    [held] = [m for m in review if m["id"] == message_id]
    assert held["attachment"]["kind"] == "image" and held["attachment"]["url"]
    review = signed_in("school_admin").get("/messages/review").get_data(as_text=True)
    assert 'class="attachment-image"' in review and "低价出货" in review


def test_a_recalled_messages_attachment_is_hidden_from_recipients(app, signed_in, files):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    with app.app_context():
        parent_id = user("parent1").id
    conversation_id = post(
        teacher, "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    voice_id = made_upload(app, "parent1", files["voice"], "voice")
    message_id = post(parent, f"/api/v1/conversations/{conversation_id}/messages",
                      {"asset_id": voice_id}).get_json()["id"]  # fmt: skip
    assert post(parent, f"/api/v1/messages/{message_id}/recall").status_code == 200
    theirs = listed(teacher, conversation_id)[message_id]
    assert theirs["status"] == "recalled"
    assert theirs["attachment"] is None and theirs["asset_id"] is None and theirs["text"] is None
    assert listed(parent, conversation_id)[message_id]["attachment"]["kind"] == "audio"
    page = teacher.get(f"/messages/{conversation_id}").get_data(as_text=True)
    assert "<audio" not in page


def test_api_refusals_say_why_and_write_nothing(app, signed_in, files):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    with app.app_context():
        parent_id = user("parent1").id
        before = message_count()
    conversation_id = post(
        teacher, "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    theirs = made_upload(app, "teacher1", files["image"], "image")
    path = f"/api/v1/conversations/{conversation_id}/messages"
    for body, status in (
        ({"asset_id": theirs}, 422),  # another person's upload
        ({"asset_id": "0" * 32}, 422),  # nobody's
        ({"text": "看", "asset_id": theirs}, 422),
        ({}, 422),  # neither text nor a file
    ):
        response = post(parent, path, body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["message"], body
    with app.app_context():
        assert message_count() == before


def test_the_conversation_page_shows_each_kind(app, signed_in, files):
    teacher = signed_in("teacher1")
    with app.app_context():
        parent_id = user("parent1").id
    conversation_id = post(
        teacher, "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    path = f"/api/v1/conversations/{conversation_id}/messages"
    for kind in ("image", "pdf"):
        asset_id = made_upload(app, "teacher1", files[kind], kind)
        assert post(teacher, path, {"asset_id": asset_id}).status_code == 201
    voice_id = made_upload(app, "parent1", files["voice"], "voice")
    assert post(signed_in("parent1"), path, {"asset_id": voice_id}).status_code == 201
    page = teacher.get(f"/messages/{conversation_id}").get_data(as_text=True)
    assert 'class="attachment-image"' in page and "<audio" in page and "通知.pdf" in page


def test_an_urgent_voice_message_alerts_the_school_office_with_words(ctx, files):
    """The office's safety notice of a message without text still says what it is."""
    from elearn.models import Notification

    voice_id = attachment("parent1", files["voice"], "voice").id
    parent = user("parent1")
    [school] = service.office_schools(parent)
    line = service.office_conversation(actor=parent, school=school)
    service.post_message(actor=parent, conversation=line, asset=db.session.get(Asset, voice_id))
    [notice] = db.session.scalars(
        select(Notification).where(
            Notification.user_id == user("school_admin").id,
            Notification.kind == "safety.urgent_message",
        )
    ).all()
    assert notice.body and "语音" in notice.body
