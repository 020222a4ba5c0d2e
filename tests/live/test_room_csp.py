"""The lecture room under the Content-Security-Policy: its Socket.IO websocket is allowed (the
policy names the page's own host for ws: and wss:), and a room waiting for its lecture does not
load the video player (hls.js comes when there is a stream)."""

from __future__ import annotations

from tests.e2e.conftest import PHONE, sign_in
from tests.live.conftest import create_lecture, unit_id


def test_the_room_joins_over_its_websocket_under_the_policy(live_url, token, new_page, shot):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}], title="安全策略")
    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    fetched: list[str] = []
    student.on("request", lambda request: fetched.append(request.url))
    response = student.goto(f"/lectures/{lecture_id}")
    policy = response.headers["content-security-policy"]
    host = live_url.split("://", 1)[1]
    assert f"ws://{host}" in policy and "'unsafe-inline'" not in policy
    student.wait_for_function(
        "document.getElementById('live-room').dataset.joined === '1'", timeout=30_000
    )
    assert student.evaluate("window.liveRoom.socket.io.engine.transport.name") == "websocket"
    assert not [url for url in fetched if "hls.min" in url]  # nothing to play yet
    shot(student, "room")
