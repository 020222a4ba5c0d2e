"""The lectures API: scheduling, listing by audience, attendance for hosts and admins."""

from __future__ import annotations

from tests.conftest import unit_by_code

OTHER_COUNTY_STUDENT = "s_S0201_5_01"


def _create(client, **body):
    payload = {
        "title": "禁毒直播",
        "starts_at": "2030-03-01T09:00:00+08:00",
        "audience": [{"unit_id": body.pop("unit_id")}],
        **body,
    }
    return client.post("/api/v1/lectures", json=payload, headers={"X-CSRFToken": _csrf(client)})


def _csrf(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/")


def test_schedule_and_list_by_audience(app, signed_in):
    with app.app_context():
        school = unit_by_code("S0101").id
    expert = signed_in("expert1")
    response = _create(expert, unit_id=school, is_training=False)
    assert response.status_code == 201, response.get_json()
    lecture_id = response.get_json()["id"]
    mine = [row["id"] for row in signed_in("student1").get("/api/v1/lectures").get_json()]
    assert lecture_id in mine
    theirs = [
        row["id"] for row in signed_in(OTHER_COUNTY_STUDENT).get("/api/v1/lectures").get_json()
    ]
    assert lecture_id not in theirs
    assert signed_in(OTHER_COUNTY_STUDENT).get(f"/api/v1/lectures/{lecture_id}").status_code == 404
    hosted = signed_in("expert1").get(f"/api/v1/lectures/{lecture_id}").get_json()
    assert hosted["is_host"] is True and hosted["audience"][0]["unit_id"] == school


def test_schedule_refusals_say_why_in_chinese(app, signed_in):
    with app.app_context():
        school = unit_by_code("S0101").id
        other = unit_by_code("S0201").id
    teacher = signed_in("teacher1")
    response = _create(teacher, unit_id=other)
    assert response.status_code == 400
    assert "范围" in response.get_json()["message"] or "不存在" in response.get_json()["message"]
    response = _create(teacher, unit_id=school, starts_at="tomorrow")
    assert response.status_code == 422 and "日期" in response.get_json()["errors"]["starts_at"][0]
    naive = _create(teacher, unit_id=school, starts_at="2030-03-01T09:00:00")
    assert naive.status_code == 422 and "时区" in naive.get_json()["errors"]["starts_at"][0]
    response = _create(signed_in("student1"), unit_id=school)
    assert response.status_code == 403
    response = teacher.post(
        "/api/v1/lectures",
        json={"title": "x", "starts_at": "2030-03-01T09:00:00+08:00", "audience": [{"role": "x"}]},
        headers={"X-CSRFToken": _csrf(teacher)},
    )
    assert response.status_code == 422 and "audience.0.role" in response.get_json()["errors"]


def test_cookie_session_post_needs_csrf(app, signed_in):
    with app.app_context():
        school = unit_by_code("S0101").id
    response = signed_in("expert1").post(
        "/api/v1/lectures",
        json={
            "title": "x",
            "starts_at": "2030-03-01T09:00:00+08:00",
            "audience": [{"unit_id": school}],
        },
    )
    assert response.status_code == 400


def test_bearer_token_schedules_without_csrf(app, client):
    with app.app_context():
        school = unit_by_code("S0101").id
    token = client.post(
        "/api/v1/auth/token", json={"username": "expert1", "password": "demo1234"}
    ).get_json()["token"]
    response = client.post(
        "/api/v1/lectures",
        json={
            "title": "x",
            "starts_at": "2030-03-01T09:00:00+08:00",
            "audience": [{"unit_id": school}],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_attendance_for_hosts_and_admins_only(app, signed_in):
    with app.app_context():
        school = unit_by_code("S0101").id
    lecture_id = _create(signed_in("expert1"), unit_id=school).get_json()["id"]
    assert signed_in("expert1").get(f"/api/v1/lectures/{lecture_id}/attendance").status_code == 200
    assert (
        signed_in("school_admin").get(f"/api/v1/lectures/{lecture_id}/attendance").status_code
        == 200
    )
    assert signed_in("teacher1").get(f"/api/v1/lectures/{lecture_id}/attendance").status_code == 404
    assert signed_in("student1").get(f"/api/v1/lectures/{lecture_id}/attendance").status_code == 404


def test_openapi_documents_the_lectures(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/lectures"]
    assert "/api/v1/lectures/{lecture_id}/attendance" in paths
