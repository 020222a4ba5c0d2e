"""The Socket.IO namespace ``/live``: thin handlers around ``live.service``.

Each handler authenticates the connection again (a revoked session stops at its next event even
if the disconnect were lost), applies the per-user rate limit and makes one service call; its
wrapper (``_handler``) is the event's unit of work (``elearn.uow``): it commits when the handler
returns and only then sends the emits the handler queued (``uow.emit``, ``uow.after_commit``), or
rolls back and sends nothing. Refusals go back as an ``error`` event ``{"event", "message"}`` in the user's language
and as the acknowledgement ``{"ok": false, "error"}``. The events are documented in
``live/EVENTS.md``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from elearn import uow
from elearn.extensions import db, socketio
from elearn.metrics import LIVE_SOCKETS
from elearn.models import Unit, User
from elearn.service import accounts
from elearn.service.errors import ServiceError
from live import recording, service
from live.models import Lecture, LectureStatus, MessageKind
from live.summaries import NAMESPACE, hosts_room, room_of
from live.throttle import RateCheck

log = logging.getLogger(__name__)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass
class Connection:
    """What this process knows of one of its sockets."""

    user_id: int
    #: "session" (page cookie) or "token" (API token), and the secret to re-check it with
    kind: str
    secret: str
    lecture_id: int | None = None


_CONNECTIONS: dict[str, Connection] = {}
_LOCK = threading.Lock()


def current_sid() -> str:
    """The id of the socket whose event (or connection) this is."""
    return request.sid  # type: ignore[attr-defined]  # set by flask-socketio, not in Flask's Request


def _live() -> Any:
    return current_app.extensions["live"]


def _refuse(message: str) -> None:
    raise ConnectionRefusedError(message)


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth: Any = None) -> None:
    token = auth.get("token") if isinstance(auth, dict) else None
    user: User | None
    if isinstance(token, str) and token:
        check = accounts.load_token_user(token)
        if check.user is None:
            uow.rollback()
            _refuse(check.error or _("Sign in first."))
        user, kind, secret = check.user, "token", token
    elif current_user.is_authenticated and current_user.current_session_id:
        user, kind, secret = current_user, "session", current_user.current_session_id
    else:
        _refuse(_("Sign in first."))
    assert user is not None
    if user.must_change_password:
        uow.rollback()
        _refuse(accounts.password_change_message())
    # this process's heartbeat, from its first socket on (live.service.processes)
    _live().heartbeat.ensure_running(_sids_in_rooms)
    sid = current_sid()
    with _LOCK:
        _CONNECTIONS[sid] = Connection(user_id=user.id, kind=kind, secret=secret)
        LIVE_SOCKETS.set(len(_CONNECTIONS))
    # the key of the session or token it came with: a logout or a password change finds it
    _live().presence.add(sid, user_id=user.id, session_key=accounts.hash_token(secret))
    join_room(user_room(user.id))
    uow.rollback()  # it only read


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(*_reason: Any) -> None:
    sid = current_sid()
    with _LOCK:
        _CONNECTIONS.pop(sid, None)
        LIVE_SOCKETS.set(len(_CONNECTIONS))
    _live().presence.remove(sid)
    try:
        with uow.unit():
            service.close_interval(sid=sid)
    except Exception:  # noqa: BLE001 - a failed count must not break the disconnect
        log.exception("closing attendance of %s failed", sid)


def _sids_in_rooms() -> list[str]:
    """This process's sockets that joined a lecture."""
    with _LOCK:
        return [sid for sid, conn in _CONNECTIONS.items() if conn.lecture_id is not None]


def _connection() -> Connection | None:
    with _LOCK:
        return _CONNECTIONS.get(current_sid())


def _current_actor(conn: Connection) -> User | None:
    if conn.kind == "session":
        user = accounts.load_session_user(conn.secret)
    else:
        user = accounts.load_token_user(conn.secret).user
    return None if user is None or user.must_change_password else user


def _lecture_of(conn: Connection, actor: User, *, check_ban: bool = True) -> Lecture:
    """The joined lecture with its co-hosts (one query); a banned user stops here unless the
    service call that follows checks the sanctions itself (``check_ban=False``)."""
    if conn.lecture_id is None:
        raise ServiceError(_("Join a lecture first."))
    lecture = service.room_lecture(conn.lecture_id)
    if lecture is None:
        raise ServiceError(_("This lecture does not exist, or is not for you."), status=404)
    if check_ban and not service.is_host(actor, lecture) and service.is_banned(actor, lecture):
        raise ServiceError(_("You have been removed from this lecture."), status=403)
    return lecture


def _disconnect_soon(sid: str) -> None:
    socketio.sleep(0.2)
    socketio.server.disconnect(sid, namespace=NAMESPACE)


@dataclass
class Then:
    """A handler's answer with a ``step`` that needs the event's unit committed (a stream whose
    rows ffmpeg's segments belong to) and whose failure the socket must still hear about: the
    wrapper runs it after the commit and its effects, and answers a failure as the handler's."""

    result: dict[str, Any]
    step: Callable[[], Any]


def _handler(name: str, *, limited: bool = False) -> Callable[..., Any]:
    """Wrap an event: re-authenticate, rate-limit, run the handler as one unit of work (commit,
    then the emits it queued; or roll back and drop them), report refusals."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(data: Any = None) -> Any:
            sid = current_sid()
            conn = _connection()
            # the connection's user never changes: its rate check (Redis) runs beside the login
            # check (PostgreSQL), so a chat line waits for one round trip, not two
            rate = RateCheck(_live().throttle, f"user:{conn.user_id}") if limited and conn else None
            actor = _current_actor(conn) if conn else None
            if conn is None or actor is None:
                uow.rollback()
                message = _("Your sign-in has ended. Sign in again.")
                emit("error", {"event": name, "message": message})
                # after the acknowledgement has gone out, not before it
                socketio.start_background_task(_disconnect_soon, sid)
                return {"ok": False, "error": message}
            try:
                if rate is not None and not rate.allowed():
                    raise ServiceError(
                        _("You are sending messages too fast. Wait a moment."), status=429
                    )
                with uow.unit():
                    result = func(conn, actor, data if data is not None else {})
                if isinstance(result, Then):
                    result.step()
                    result = result.result
            except ServiceError as error:
                uow.rollback()  # the unit rolled back already, unless its commit failed
                emit("error", {"event": name, "message": error.message})
                return {"ok": False, "error": error.message}
            except Exception:  # noqa: BLE001 - the socket must get an answer, never a hang
                uow.rollback()
                log.exception("live event %s failed", name)
                message = _("Something went wrong on our side. Try again later.")
                emit("error", {"event": name, "message": message})
                return {"ok": False, "error": message}
            return {"ok": True, **(result or {})}

        socketio.on_event(name, wrapper, namespace=NAMESPACE)
        return wrapper

    return decorate


def _field(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _leave_current(conn: Connection) -> None:
    if conn.lecture_id is None:
        return
    leave_room(room_of(conn.lecture_id))
    leave_room(hosts_room(conn.lecture_id))
    service.close_interval(sid=current_sid())
    conn.lecture_id = None


@_handler("join")
def on_join(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    try:
        lecture = db.session.get(Lecture, int(_field(data, "lecture_id")))
    except (TypeError, ValueError):
        lecture = None
    if lecture is None:
        raise ServiceError(_("This lecture does not exist, or is not for you."), status=404)
    service.check_can_join(actor, lecture)
    class_unit = None
    screen = _field(data, "class_screen")
    if isinstance(screen, dict):
        try:
            # int(None) raises the TypeError caught below, as a class id that is not a number
            class_unit = db.session.get(Unit, int(screen.get("class_id")))  # type: ignore[arg-type]  # see above
        except (TypeError, ValueError):
            class_unit = None
        if class_unit is None:
            raise ServiceError(
                _("Only a teacher of this class can open its class screen."), status=403
            )
    _leave_current(conn)
    host = service.is_host(actor, lecture)
    sid = current_sid()
    if lecture.status != LectureStatus.ENDED:
        service.open_interval(
            actor=actor,
            lecture=lecture,
            sid=sid,
            class_unit=class_unit,
            headcount=screen.get("headcount") if isinstance(screen, dict) else None,
            process=_live().heartbeat.identity,
        )
    join_room(room_of(lecture.id))
    if host:
        join_room(hosts_room(lecture.id))
    conn.lecture_id = lecture.id
    _live().presence.set_lecture(sid, lecture.id)
    messages = service.replay(actor=actor, lecture=lecture, after_id=_field(data, "last_seen_id"))
    poll = service.current_poll(lecture)
    quiz = service.current_quiz(lecture)
    payload = {
        "lecture": service.lecture_json(lecture, actor),
        "settings": service.room_settings(lecture),
        "is_host": host,
        "me": {"id": actor.id, "name": actor.display_name},
        "messages": [service.message_json(m) for m in messages],
        "poll": service.poll_summary(poll) if poll else None,
        "quiz": (
            {**service.quiz_json(quiz), "answered": service.answered_by(actor, quiz)}
            if quiz
            else None
        ),
    }
    uow.after_commit(emit, "joined", payload)
    return payload


def _say(conn: Connection, actor: User, data: Any, kind: MessageKind) -> dict[str, Any]:
    # The hot path of a busy room: every database round trip here waits behind the fan-out of
    # the lines before it (one gevent hub), so as few as the rules allow: the login (one query),
    # the lecture with its co-hosts (one), the sanctions (one, in post_message), the insert and
    # the commit. The line is serialised before the commit (nothing is reloaded after it) and
    # broadcast after it (the wrapper's unit), so a client that reconnects always finds what it
    # missed.
    lecture = _lecture_of(conn, actor, check_ban=False)
    message = service.post_message(
        actor=actor, lecture=lecture, kind=kind, text=_field(data, "text")
    )
    body = service.message_json(message)
    uow.emit(kind.value, body, to=room_of(lecture.id), namespace=NAMESPACE)
    return {"message": body}


@_handler("chat", limited=True)
def on_chat(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    return _say(conn, actor, data, MessageKind.CHAT)


@_handler("question", limited=True)
def on_question(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    return _say(conn, actor, data, MessageKind.QUESTION)


@_handler("hand", limited=True)
def on_hand(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    message = service.raise_hand(actor=actor, lecture=lecture)
    body = service.message_json(message)
    uow.emit("hand", body, to=hosts_room(lecture.id), namespace=NAMESPACE)
    return {"message": body}


@_handler("upvote", limited=True)
def on_upvote(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    message = service.upvote(actor=actor, lecture=lecture, message_id=_field(data, "message_id"))
    body = service.message_json(message)
    uow.emit("question", body, to=room_of(lecture.id), namespace=NAMESPACE)
    return {"message": body}


@_handler("poll_answer", limited=True)
def on_poll_answer(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    poll = service.poll_of(lecture, _field(data, "poll_id"))
    service.vote(actor=actor, lecture=lecture, poll=poll, choice=_field(data, "choice"))
    uow.after_commit(_live().summaries.mark, poll.id)
    return {}


@_handler("poll_start")
def on_poll_start(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    poll = service.start_poll(
        actor=actor,
        lecture=lecture,
        question=_field(data, "question"),
        choices=_field(data, "choices"),
    )
    body = poll.as_dict()
    uow.emit("poll", body, to=room_of(lecture.id), namespace=NAMESPACE)
    uow.after_commit(_live().summaries.mark, poll.id)
    return {"poll": body}


@_handler("poll_end")
def on_poll_end(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    poll = service.poll_of(lecture, _field(data, "poll_id"))
    service.end_poll(actor=actor, lecture=lecture, poll=poll)
    uow.after_commit(_live().summaries.mark, poll.id)
    return {"poll": poll.as_dict()}


@_handler("quiz_start")
def on_quiz_start(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    quiz = service.start_quiz(
        actor=actor,
        lecture=lecture,
        question_ids=_field(data, "question_ids"),
        title=_field(data, "title"),
    )
    body = service.quiz_json(quiz)
    uow.emit("quiz", body, to=room_of(lecture.id), namespace=NAMESPACE)
    uow.after_commit(_live().summaries.mark_quiz, quiz.id)
    return {"quiz": body}


@_handler("quiz_end")
def on_quiz_end(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    quiz = service.quiz_of(lecture, _field(data, "quiz_id"))
    service.end_quiz(actor=actor, lecture=lecture, quiz=quiz)
    uow.after_commit(_live().summaries.mark_quiz, quiz.id)  # the final summary, with the keys
    return {"quiz": service.quiz_summary(quiz)}


@_handler("quiz_answer", limited=True)
def on_quiz_answer(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    quiz = service.quiz_of(lecture, _field(data, "quiz_id"))
    service.answer_quiz(
        actor=actor,
        lecture=lecture,
        quiz=quiz,
        position=_field(data, "position"),
        answer=_field(data, "answer"),
    )
    uow.after_commit(_live().summaries.mark_quiz, quiz.id)
    return {}  # no mark, no key: those come when the host closes the quiz


@_handler("quiz_result")
def on_quiz_result(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    quiz = service.quiz_of(lecture, _field(data, "quiz_id"))
    return {"result": service.quiz_result(actor=actor, quiz=quiz)}


def kick(user_id: int, lecture_id: int | None, message: str) -> int:
    """Close a user's sockets (in one lecture, or all of them), on whichever process holds them."""
    sids = _live().presence.sids_of_user(user_id, lecture_id)
    return _close(sids, message)


def _close(sids: list[str], message: str) -> int:
    for sid in sids:
        socketio.emit("kicked", {"message": message}, to=sid, namespace=NAMESPACE)
        # with a message queue this reaches the process that owns the socket
        socketio.server.disconnect(sid, namespace=NAMESPACE)
    return len(sids)


@_handler("moderate")
def on_moderate(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    result = service.moderate(actor=actor, lecture=lecture, data=data)
    room = room_of(lecture.id)
    if result.message is not None:
        uow.emit("message_deleted", {"id": result.message.id}, to=room, namespace=NAMESPACE)
    elif result.user_id is not None:
        notice = {"action": result.action, "user_id": result.user_id}
        uow.emit("moderation", notice, to=hosts_room(lecture.id), namespace=NAMESPACE)
        uow.emit("moderation", notice, to=user_room(result.user_id), namespace=NAMESPACE)
        if result.action == "ban":
            message = _("You have been removed from this lecture.")
            uow.after_commit(kick, result.user_id, lecture.id, message)
    else:
        uow.emit("settings", result.settings, to=room, namespace=NAMESPACE)
    return {"action": result.action}


def _set_status(lecture: Lecture, actor: User, status: LectureStatus) -> dict[str, Any]:
    service.set_status(actor=actor, lecture=lecture, status=status)
    settings = service.room_settings(lecture)
    uow.emit("settings", settings, to=room_of(lecture.id), namespace=NAMESPACE)
    return {"settings": settings}


@_handler("go_live")
def on_go_live(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    return _set_status(_lecture_of(conn, actor), actor, LectureStatus.LIVE)


@_handler("end")
def on_end(conn: Connection, actor: User, data: Any) -> Then:
    lecture = _lecture_of(conn, actor)
    result = _set_status(lecture, actor, LectureStatus.ENDED)

    def end_stream() -> None:
        # once the end is committed (the lecture's row is read again): stop the stream here and
        # make the recording
        recording.after_end(lecture.id, lecture.recording_asset_id)

    return Then(result, end_stream)


@_handler("room")
def on_room(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    """Hosts ask how many screens and people are watching."""
    lecture = _lecture_of(conn, actor)
    if not service.is_host(actor, lecture):
        raise ServiceError(_("Only the lecturer and co-hosts can do this."), status=403)
    return {"watching": service.watching_now(lecture)}


def on_logout(
    sender: Any, *, user: User | None = None, session_token: str | None = None, **extra: Any
) -> None:
    """elearn's ``user_logged_out`` signal: close the sockets of that login session at once."""
    if not session_token:
        return
    sids = _live().presence.sids_of_session(accounts.hash_token(session_token))
    _close(sids, _("You have signed out."))


def on_password_changed(
    sender: Any, *, user: User | None = None, kept_key: str | None = None, **extra: Any
) -> None:
    """elearn's ``password_changed`` signal: close every socket of that user except those of the
    session or token that changed the password."""
    if user is None:
        return
    presence = _live().presence
    kept = set(presence.sids_of_session(kept_key)) if kept_key else set()
    sids = [sid for sid in presence.sids_of_user(user.id) if sid not in kept]
    _close(sids, _("Your password was changed: sign in again."))
