"""The demo installation asked through its API, for the suites that run it as separate processes
(``tests/stack``, ``tests/drills``): a demo user's token, and a lecture for the demo county."""

from __future__ import annotations

from collections.abc import Callable

import requests

DEMO_PASSWORD = "demo1234"


def token(url: str, username: str) -> str:
    """An API token for the demo user ``username`` of the installation at ``url``."""
    response = requests.post(
        f"{url}/api/v1/auth/token",
        json={"username": username, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def county_lecture(url: str, title: str, token_of: Callable[[str], str] | None = None) -> int:
    """A lecture by expert1 for the demo county C01 (student1 and teacher1 are in it); its id."""
    token_of = token_of or (lambda username: token(url, username))
    admin = {"Authorization": f"Bearer {token_of('pref_admin')}"}
    me = requests.get(f"{url}/api/v1/me", headers=admin, timeout=30).json()
    prefecture = min(me["roles"], key=lambda r: r["unit_id"])["unit_id"]
    children = requests.get(
        f"{url}/api/v1/units/{prefecture}/children", headers=admin, timeout=30
    ).json()
    county = next(child["id"] for child in children if child["code"] == "C01")
    response = requests.post(
        f"{url}/api/v1/lectures",
        json={"title": title, "starts_at": "2030-03-01T09:00:00+08:00",
              "audience": [{"unit_id": county}]},
        headers={"Authorization": f"Bearer {token_of('expert1')}"},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()["id"]
