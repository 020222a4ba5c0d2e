"""Web Push notices end to end against a push service on loopback: a browser's subscription is
kept through the settings page's route, a notice is pushed encrypted for that subscription
(RFC 8291) with a VAPID signature for that service (RFC 8292), and the test, holding the
subscription's private key as a browser does, decrypts it. A subscription the service no longer
knows (410) is forgotten.

The push service speaks HTTPS (real ones all do, and the app keeps only https endpoints), with a
certificate made here and trusted through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from elearn import tasks
from elearn.delivery import push
from elearn.extensions import db
from elearn.models import NotificationDelivery, PushSubscription
from elearn.service import delivery, notifications
from tests.conftest import csrf_token, user


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class PushService:
    """An HTTPS push service on loopback: it keeps what it was sent; ``/gone/…`` answers 410."""

    url: str
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "push.crt", folder / "push.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def push_service(tmp_path, monkeypatch) -> Iterator[PushService]:
    cert, key = _certificate(tmp_path)
    service: PushService

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            service.received.append((self.path, headers, body))
            self.send_response(410 if self.path.startswith("/gone/") else 201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    service = PushService(f"https://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def vapid(app, monkeypatch) -> str:
    """The installation's VAPID key (base64url DER, as ELEARN_VAPID_PRIVATE_KEY takes it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", _b64(der))
    monkeypatch.setitem(app.config, "VAPID_SUBJECT", "mailto:ops@example.org")
    return _b64(der)


class Browser:
    """A browser's side of a subscription: its key pair and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def _subscribe(client, subscription) -> int:
    token = csrf_token(client, "/notifications/settings")
    answer = client.post("/notifications/push", json=subscription, headers={"X-CSRFToken": token})
    return answer.status_code


def test_a_notice_is_pushed_encrypted_to_each_browser_and_a_gone_one_is_forgotten(
    app, signed_in, push_service, vapid
):
    client = signed_in("teacher1")
    phone = Browser(f"{push_service.url}/push/phone-1")
    old_tablet = Browser(f"{push_service.url}/gone/tablet-1")
    assert _subscribe(client, phone.subscription) == 201
    assert _subscribe(client, old_tablet.subscription) == 201
    # the settings page offers the button with the installation's public key
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert f'data-key="{push.public_key(vapid)}"' in page

    with app.test_request_context():
        teacher = user("teacher1")
        notifications.notify(
            [teacher.id], kind="quiz.campaign_reminder", title="期末禁毒测试提醒",
            body="请在周五前完成", link="/quizzes",
        )  # fmt: skip
        db.session.flush()
        assert tasks.deliver_notifications() == 1

        paths = sorted(path for path, _headers, _body in push_service.received)
        assert paths == ["/gone/tablet-1", "/push/phone-1"]
        _path, headers, body = next(r for r in push_service.received if r[0] == "/push/phone-1")
        assert phone.decrypt(body) == {
            "title": "期末禁毒测试提醒", "body": "请在周五前完成", "link": "/quizzes",
        }  # fmt: skip
        assert headers["content-encoding"] == "aes128gcm"
        # signed for this push service, with the installation's key
        scheme, _, params = headers["authorization"].partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert scheme == "vapid" and fields["k"] == push.public_key(vapid)
        header, payload, signature = fields["t"].split(".")
        claims = json.loads(_unb64(payload))
        raw = _unb64(signature)  # ES256: r and s, 32 bytes each
        vapid_public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), _unb64(fields["k"])
        )
        vapid_public.verify(  # raises when the token was not signed with the installation's key
            encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])),
            f"{header}.{payload}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
        assert claims["aud"] == push_service.url and claims["sub"] == "mailto:ops@example.org"

        (row,) = db.session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.channel == "push")
        )
        assert row.status == "sent"  # one of the two browsers got it
        endpoints = db.session.scalars(select(PushSubscription.endpoint)).all()
        assert endpoints == [phone.subscription["endpoint"]]  # the gone one is forgotten
        assert tasks.deliver_notifications() == 0  # and nothing twice


def test_subscriptions_are_checked_and_kept_to_their_owner(app, signed_in, vapid):
    client = signed_in("parent1")
    for bad in (None, {"endpoint": "https://push.example/x"}, {"endpoint": "http://push.example/x",
                "keys": {"p256dh": "a", "auth": "b"}}, ["not", "an", "object"]):  # fmt: skip
        assert _subscribe(client, bad) == 400
    good = Browser("https://push.example/send/abc").subscription
    assert _subscribe(client, good) == 201
    # another person cannot remove it
    other = signed_in("teacher1")
    token = csrf_token(other, "/notifications/settings")
    removed = other.post(
        "/notifications/push/remove",
        json={"endpoint": good["endpoint"]},
        headers={"X-CSRFToken": token},
    )
    assert removed.status_code == 200 and removed.get_json()["removed"] is False
    token = csrf_token(client, "/notifications/settings")
    removed = client.post(
        "/notifications/push/remove",
        json={"endpoint": good["endpoint"]},
        headers={"X-CSRFToken": token},
    )
    assert removed.status_code == 200 and removed.get_json()["removed"] is True
    with app.app_context():
        assert delivery.unsubscribe(user("parent1"), good["endpoint"]) is False


def test_the_service_worker_is_served_at_the_root(client):
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/javascript")
    assert "showNotification" in answer.get_data(as_text=True)
