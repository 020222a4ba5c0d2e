"""The Socket.IO namespace ``/messages``: thin handlers around ``parents.interaction.service``.

A socket signs in as on ``/live``: with an API token in the connection's ``auth``
(``{"token": …}``) or with the page's session cookie. It joins its user's room
(``delivery.user_room``), where every ``message`` and ``read`` event for that person arrives,
from whichever process sent it (the rooms are shared through the Redis message queue). Each
client event authenticates again (a revoked session stops at its next event), runs as one unit
of work (``elearn.uow``: commit, then the emits it queued; or roll back and emit nothing) and is
answered by its acknowledgement ``{"ok": true, …}`` or ``{"ok": false, "error"}``. The events
are documented in ``parents/EVENTS.md``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from elearn import permissions, uow
from elearn.extensions import db, socketio
from elearn.models import User
from elearn.models._types import BIGINT_MAX
from elearn.service import accounts
from elearn.service.errors import NotFound, ServiceError
from parents.interaction import attachments, delivery, service, sockets
from parents.interaction.delivery import NAMESPACE, user_room
from parents.interaction.models import Conversation, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connection:
    """Who one of this process's sockets signed in as, and with what ("session" or "token")."""

    user_id: int
    kind: str
    secret: str


_CONNECTIONS: dict[str, Connection] = {}
_LOCK = threading.Lock()


def _sockets() -> Any:
    return current_app.extensions["parents.messages"]


def _sid() -> str:
    return request.sid  # type: ignore[attr-defined]  # set by flask-socketio


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth: Any = None) -> None:
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str) and token:
        check = accounts.load_token_user(token)
        if check.user is None:
            uow.rollback()
            raise ConnectionRefusedError(check.error or _("Sign in first."))
        user, kind, secret = check.user, "token", token
    elif current_user.is_authenticated and current_user.current_session_id:
        user, kind, secret = current_user, "session", current_user.current_session_id
    else:
        uow.rollback()
        raise ConnectionRefusedError(_("Sign in first."))
    if user.must_change_password:
        uow.rollback()
        raise ConnectionRefusedError(accounts.password_change_message())
    with _LOCK:
        _CONNECTIONS[_sid()] = Connection(user_id=user.id, kind=kind, secret=secret)
    # the key of the session or token it came with: a logout or a password change finds it
    _sockets().add(_sid(), user_id=user.id, login_key=accounts.hash_token(secret))
    join_room(user_room(user.id))
    uow.rollback()  # it only read


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(*_reason: Any) -> None:
    with _LOCK:
        _CONNECTIONS.pop(_sid(), None)
    _sockets().remove(_sid())


def _actor(conn: Connection | None) -> User | None:
    if conn is None:
        return None
    if conn.kind == "session":
        user = accounts.load_session_user(conn.secret)
    else:
        user = accounts.load_token_user(conn.secret).user
    return None if user is None or user.must_change_password else user


def _handler(name: str) -> Callable[..., Any]:
    """Wrap a client event: authenticate again, run it as one unit of work, answer refusals."""

    def decorate(func: Callable[[User, dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(data: Any = None) -> dict[str, Any]:
            with _LOCK:
                conn = _CONNECTIONS.get(_sid())
            actor = _actor(conn)
            if actor is None:
                uow.rollback()
                return {"ok": False, "error": _("Your sign-in has ended. Sign in again.")}
            try:
                with uow.unit():
                    result = func(actor, data if isinstance(data, dict) else {})
            except ServiceError as error:
                uow.rollback()
                return {"ok": False, "error": error.message}
            except Exception:  # noqa: BLE001 - the socket must get an answer, never a hang
                uow.rollback()
                log.exception("messages event %s failed", name)
                return {
                    "ok": False,
                    "error": _("Something went wrong on our side. Try again later."),
                }
            return {"ok": True, **result}

        socketio.on_event(name, wrapper, namespace=NAMESPACE)
        return wrapper

    return decorate


#: for the other sub-packages' events on this namespace (parents.appointments.events)
client_event = _handler


def row_id(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= BIGINT_MAX:
        raise ServiceError(_("Give the id of a %(what)s.", what=key), status=422)
    return value


def _visible(model: type, ident: int, actor: User, action: str = "view") -> Any:
    found = db.session.get(model, ident)
    if found is None or not permissions.can(actor, action, found):
        raise NotFound(_("This conversation does not exist, or is not yours."))
    return found


@_handler("send")
def on_send(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"conversation_id", "text"?, "asset_id"?}`` → ``{"id", "status", "conversation_id"}``."""
    conversation = _visible(Conversation, row_id(data, "conversation_id"), actor, "post")
    text = data.get("text", "")
    asset_id = data.get("asset_id")
    if not isinstance(text, str) or not (asset_id is None or isinstance(asset_id, str)):
        raise ServiceError(_("Write a message first."), status=422)
    message = service.post_message(
        actor=actor, conversation=conversation, text=text, asset=attachments.find(asset_id)
    )
    return {
        "id": message.id,
        "status": message.status,
        "conversation_id": message.conversation_id,
        "deliver_at": delivery.payload(message, show_text=True)["deliver_at"],
    }


@_handler("read")
def on_read(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"message_id"}`` → ``{"last_read_message_id", "unread"}``."""
    message = _visible(Message, row_id(data, "message_id"), actor)
    member = service.mark_read(actor=actor, message=message)
    return {
        "last_read_message_id": member.last_read_message_id,
        "unread": service.unread_total(actor),
    }


@_handler("delivered")
def on_delivered(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"conversation_id", "message_id"}`` (the newest message this device received) →
    ``{"last_delivered_message_id"}``; the senders get a ``delivered`` receipt."""
    conversation = _visible(Conversation, row_id(data, "conversation_id"), actor, "post")
    mark = service.mark_delivered(
        actor=actor, conversation=conversation, message_id=row_id(data, "message_id")
    )
    return {"last_delivered_message_id": mark}


def _close(sids: list[str], message: str) -> None:
    for sid in sids:
        socketio.emit("signed_out", {"message": message}, to=sid, namespace=NAMESPACE)
        # with a message queue this reaches the process that holds the socket
        socketio.server.disconnect(sid, namespace=NAMESPACE)


def on_logout(
    sender: Any, *, user: User | None = None, session_token: str | None = None, **extra: Any
) -> None:
    """elearn's ``user_logged_out`` signal: close that login session's sockets at once."""
    if user is None or not session_token:
        return
    key = accounts.hash_token(session_token)
    _close(
        [sid for sid, login in _sockets().of_user(user.id) if login == key],
        _("You have signed out."),
    )


def on_password_changed(
    sender: Any, *, user: User | None = None, kept_key: str | None = None, **extra: Any
) -> None:
    """elearn's ``password_changed`` signal: close every socket of that user except those of the
    session or token that changed the password."""
    if user is None:
        return
    sids = [sid for sid, login in _sockets().of_user(user.id) if login != kept_key]
    _close(sids, _("Your password was changed: sign in again."))


def setup(app: Flask) -> None:
    """This process's map of sockets to logins (``parents.interaction.sockets``)."""
    app.extensions["parents.messages"] = sockets.from_app(app)
