"""What every answer carries: the security headers, the Content-Security-Policy among them.

One list, whoever answers: Flask (after each request), the exam lanes in front of Flask
(``quizzes/save_lane.py``, ``start_lane.py``) and the static files (WhiteNoise,
``elearn/static_files.py``). The policy is what the pages need and no more:

- scripts come from the app's own static files only. A template that truly needs an inline
  ``<script>`` gives it ``nonce="{{ csp_nonce() }}"``; the page's policy then names that nonce,
  new for each answer. No inline event handlers (``onclick=``): ``elearn/static/js/page.js``
  does the shared ones (``data-confirm``, ``data-busy``);
- styles from the static files only, no ``style=`` attributes (bars take their size from
  ``data-width`` and friends, set by ``page.js`` through the CSSOM, which a policy does not
  govern);
- pictures, video and the uploads' parts from the app and, when media is in S3/MinIO
  (``S3_ENDPOINT``), from that origin (presigned URLs); ``blob:`` for hls.js, which plays
  through Media Source buffers and transmuxes in a worker made from a blob; ``data:`` for the
  pictures and recordings that Moodle files embed in questions;
- Socket.IO's websocket to the page's own host (``ws:``/``wss:``, which older browsers do not
  count as ``'self'``);
- no plugins, no ``<base>`` elsewhere, forms post to the app only, and only the app may frame
  its pages.

Flask-Talisman was the kept library for this; it builds the headers inside Flask's
``after_request`` only, and the lanes and WhiteNoise answer outside Flask, so they would still
need this list; its HTTPS redirects and cookie settings duplicate what the config and the proxy
already do. A policy of a dozen lines is clearer here.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Flask, Response, g, request

#: a Host header that can go into a policy as it is (anything else is left out)
_HOST = re.compile(r"\A[A-Za-z0-9.\-]+(:[0-9]{1,5})?\Z|\A\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?\Z")

#: on every answer, beside the policy
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    # frame-ancestors says it for browsers that read the policy; this for those that don't
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Referrer-Policy", "same-origin"),
    # the studio's camera, microphone and screen share, on the app's own pages only
    (
        "Permissions-Policy",
        "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()",
    ),
)


def media_origin(config: dict[str, Any]) -> str | None:
    """The S3/MinIO origin the browser fetches presigned URLs from, or None (local storage)."""
    endpoint = (config.get("S3_ENDPOINT") or "").strip().rstrip("/")
    if not endpoint:
        return None
    if "://" in endpoint:
        scheme, host = endpoint.split("://", 1)
    else:
        # as media/storage/s3.py connects: https when the URL says so or S3_SECURE is set
        scheme, host = ("https" if config.get("S3_SECURE") else "http"), endpoint
    return f"{scheme.lower()}://{host.split('/', 1)[0]}"


def directives(config: dict[str, Any]) -> dict[str, list[str]]:
    """The policy for ``config``, without what depends on a request (nonce, websocket host)."""
    media = [origin] if (origin := media_origin(config)) else []
    return {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *media],
        "media-src": ["'self'", "data:", "blob:", *media],
        "connect-src": ["'self'", *media],
        "font-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    }


def serialize(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers of an answer that is not a page (JSON, static files), as a list of pairs."""
    cached = app.extensions.get("elearn.headers")
    if cached is None:
        policy = serialize(directives(app.config))
        cached = [*BASE_HEADERS, ("Content-Security-Policy", policy)]
        app.extensions["elearn.headers"] = cached
    return list(cached)


def csp_nonce() -> str:
    """This answer's nonce for an inline ``<script nonce=…>`` (made when first asked for)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def page_policy(app: Flask) -> str:
    """The policy of the page being answered: its nonce, if it used one, and its websocket."""
    policy = directives(app.config)
    nonce = g.get("csp_nonce")
    if nonce:
        policy["script-src"].append(f"'nonce-{nonce}'")
    host = request.host
    if _HOST.match(host):
        # Socket.IO (live lectures, notifications): a ws: source allows wss: too in CSP 3;
        # both are named for browsers that do not upgrade
        policy["connect-src"][1:1] = [f"ws://{host}", f"wss://{host}"]
    return serialize(policy)


def init_app(app: Flask) -> None:
    app.add_template_global(csp_nonce)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in security_headers(app):
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = page_policy(app)
        return response
