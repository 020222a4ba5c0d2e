"""Announcements cascading prefecture → county → school → guardians, with receipts: who may send
where, forwarding with a note, read and 回执, the counts per child unit, and the refusals."""

from __future__ import annotations

from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models import Notification, RoleAssignment, Unit
from parents.announcements.models import Announcement, AnnouncementReceipt
from tests.conftest import post_form, unit_by_code, user
from tests.quizzes.conftest import bearer


def _post(client, path, username, body=None):
    return client.post(path, json=body or {}, headers=bearer(username))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _guardians_under(unit: Unit) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(RoleAssignment.user_id)))
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(Unit.path.startswith(unit.path), RoleAssignment.role == "guardian")
    )


def test_a_prefecture_notice_cascades_to_guardians_and_its_receipts_add_up(client, ctx):
    prefecture = unit_by_code("DEMO")
    county, school = unit_by_code("C01"), unit_by_code("S0101")
    sent = _post(client, "/api/v1/announcements", "pref_admin", {
        "title": "关于开展6·26禁毒宣传月活动的通知",
        "body": "各县、各学校：\n请组织家长学习。",
        "audience": [{"unit_id": prefecture.id, "role": "admin"}],
        "requires_ack": True,
    })  # fmt: skip
    assert sent.status_code == 201, sent.get_json()
    original = sent.get_json()
    assert original["recipients"] >= 2  # the county and school admins below

    # the county admin finds it among theirs, and forwards it to one school's guardians
    mine = client.get("/api/v1/announcements", headers=bearer("county_admin")).get_json()
    assert [a["id"] for a in mine["received"]] == [original["id"]]
    forwarded = _post(
        client, f"/api/v1/announcements/{original['id']}/forward", "county_admin",
        {"audience": [{"unit_id": school.id, "role": "guardian"}], "note": "请各班主任转告家长"},
    )  # fmt: skip
    assert forwarded.status_code == 201, forwarded.get_json()
    forward = forwarded.get_json()
    assert forward["recipients"] == _guardians_under(school) >= 1

    # parent1 has it in the inbox, reads it and gives the 回执
    parent = user("parent1")
    notice = db.session.scalar(
        select(Notification).where(
            Notification.user_id == parent.id, Notification.kind == "announcement.new"
        )
    )
    assert notice is not None and notice.link == f"/announcements/{forward['id']}"
    assert notice.body == "请各班主任转告家长"
    acked = _post(client, f"/api/v1/announcements/{forward['id']}/ack", "parent1")
    assert acked.status_code == 200 and acked.get_json()["acked_at"]
    db.session.refresh(notice)
    assert notice.read_at is not None  # read there, it is read in the inbox too

    receipts = client.get(
        f"/api/v1/announcements/{forward['id']}/receipts", headers=bearer("county_admin")
    ).get_json()
    assert receipts["unit_id"] == county.id
    assert receipts["recipients"] == receipts["delivered"] == forward["recipients"]
    assert (receipts["read"], receipts["acknowledged"]) == (1, 1)
    (row,) = [c for c in receipts["children"] if c["unit_id"] == school.id]
    assert (row["recipients"], row["read"], row["acknowledged"]) == (forward["recipients"], 1, 1)
    # the prefecture admin, over the county, sees them too; the school admin sees their school's
    assert (
        client.get(
            f"/api/v1/announcements/{forward['id']}/receipts", headers=bearer("pref_admin")
        ).status_code
        == 200
    )
    school_view = client.get(
        f"/api/v1/announcements/{forward['id']}/receipts?unit={school.id}",
        headers=bearer("school_admin"),
    )
    assert school_view.status_code == 200 and school_view.get_json()["acknowledged"] == 1
    # a guardian sees no receipts; nor does anyone for a unit outside the announcement
    assert (
        client.get(
            f"/api/v1/announcements/{forward['id']}/receipts", headers=bearer("parent1")
        ).status_code
        == 404
    )
    other = unit_by_code("S0201")
    assert (
        client.get(
            f"/api/v1/announcements/{forward['id']}/receipts?unit={other.id}",
            headers=bearer("pref_admin"),
        ).status_code
        == 404
    )


def test_senders_reach_only_units_within_their_responsibility(client, ctx):
    before = (_count(Announcement), _count(AnnouncementReceipt), _count(Notification))
    other_county, school, klass = (
        unit_by_code("C02"),
        unit_by_code("S0101"),
        db.session.get(Unit, user("teacher1").roles[0].unit_id),
    )
    refusals = [
        ("county_admin", [{"unit_id": other_county.id}]),
        ("teacher1", [{"unit_id": school.id, "role": "guardian"}]),
        ("teacher1", [{"unit_id": klass.id, "role": "admin"}]),
        ("teacher1", [{"unit_id": klass.id}]),  # everyone includes adults other than guardians
        ("parent1", [{"unit_id": klass.id, "role": "guardian"}]),
        ("student1", [{"unit_id": klass.id, "role": "student"}]),
    ]
    for username, audience in refusals:
        answer = _post(client, "/api/v1/announcements", username,
                       {"title": "通知", "audience": audience})  # fmt: skip
        assert answer.status_code == 403, (username, audience, answer.get_json())
        assert (
            "范围" in answer.get_json()["message"]
            or "responsibility" in answer.get_json()["message"]
        )
    assert (_count(Announcement), _count(AnnouncementReceipt), _count(Notification)) == before

    # a teacher reaches the guardians of the class they teach
    ok = _post(client, "/api/v1/announcements", "teacher1",
               {"title": "家长会通知", "audience": [{"unit_id": klass.id, "role": "guardian"}]})  # fmt: skip
    assert ok.status_code == 201 and ok.get_json()["recipients"] == _guardians_under(klass)


def test_bad_announcements_are_refused_whole(client, ctx):
    school = unit_by_code("S0101")
    before = _count(Announcement)
    cases = [
        ({"title": "", "audience": [{"unit_id": school.id}]}, 422),
        ({"title": "x" * 201, "audience": [{"unit_id": school.id}]}, 422),
        ({"title": "通知", "audience": []}, 422),
        ({"title": "通知", "audience": [{"unit_id": 2_000_000_000}]}, 404),
        ({"title": "通知", "audience": [{"unit_id": school.id, "role": "everyone"}]}, 422),
        ({"title": "通知", "body": "x" * 5001, "audience": [{"unit_id": school.id}]}, 422),
    ]
    for body, status in cases:
        answer = _post(client, "/api/v1/announcements", "school_admin", body)
        assert answer.status_code == status, (body, answer.get_json())
    assert _count(Announcement) == before

    plain = _post(client, "/api/v1/announcements", "school_admin",
                  {"title": "周五放假", "audience": [{"unit_id": school.id, "role": "guardian"}]})  # fmt: skip
    plain_id = plain.get_json()["id"]
    assert _post(client, f"/api/v1/announcements/{plain_id}/ack", "parent1").status_code == 409
    # not addressed to them: as if it did not exist
    assert _post(client, f"/api/v1/announcements/{plain_id}/read", "teacher1").status_code == 404
    assert _post(client, f"/api/v1/announcements/{plain_id}/read", "student1").status_code == 404
    forward = _post(client, f"/api/v1/announcements/{plain_id}/forward", "teacher1",
                    {"audience": [{"unit_id": school.id}]})  # fmt: skip
    assert forward.status_code == 404
    for query, status in (("?unit=abc", 400), ("?unit=99999999999", 404)):
        answer = client.get(
            f"/api/v1/announcements/{plain_id}/receipts{query}", headers=bearer("school_admin")
        )
        assert answer.status_code == status, (query, answer.get_json())


def test_the_page_marks_read_and_takes_the_receipt(client, ctx, signed_in):
    school = unit_by_code("S0101")
    sent = _post(client, "/api/v1/announcements", "school_admin", {
        "title": "<b>家长会</b>通知", "body": "周五下午三点", "requires_ack": True,
        "audience": [{"unit_id": school.id, "role": "guardian"}],
    }).get_json()  # fmt: skip
    parent = signed_in("parent1")
    page = parent.get(f"/announcements/{sent['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "&lt;b&gt;家长会&lt;/b&gt;" in html and 'id="ack"' in html
    assert "回执" in html and 'id="receipts"' not in html  # a guardian sees no counts
    receipt = db.session.get(AnnouncementReceipt, (sent["id"], user("parent1").id))
    db.session.refresh(receipt)
    assert receipt.read_at is not None and receipt.acked_at is None
    answer = post_form(parent, f"/announcements/{sent['id']}/ack")
    assert answer.status_code == 302
    db.session.refresh(receipt)
    assert receipt.acked_at is not None
    listing = parent.get("/announcements").get_data(as_text=True)
    assert "已确认" in listing or "Acknowledged" in listing
    admin_page = signed_in("school_admin").get(f"/announcements/{sent['id']}")
    assert 'id="receipts"' in admin_page.get_data(as_text=True)
    assert signed_in("teacher1").get(f"/announcements/{sent['id']}").status_code == 404


def test_the_composer_offers_the_units_within_reach_and_sends(client, ctx, signed_in):
    admin = signed_in("school_admin")
    page = admin.get("/announcements/new")
    assert page.status_code == 200
    school_id = unit_by_code("S0101").id
    html = page.get_data(as_text=True)
    assert f'value="{school_id}"' in html and f'value="{unit_by_code("S0201").id}"' not in html
    assert signed_in("parent1").get("/announcements/new").status_code == 403
    klass = db.session.get(Unit, user("teacher1").roles[0].unit_id)
    assert f'value="{klass.id}"' in signed_in("teacher1").get("/announcements/new").get_data(
        as_text=True
    )

    empty = post_form(admin, "/announcements/new", {"title": "没有对象的通知"})
    assert empty.status_code == 400 and "接收范围" in empty.get_data(as_text=True)
    assert 'value="没有对象的通知"' in empty.get_data(as_text=True)  # what was typed is kept
    sent = post_form(
        admin,
        "/announcements/new",
        {"title": "期末禁毒作业", "unit_id": str(school_id), "role": "guardian",
         "requires_ack": "1"},
    )  # fmt: skip
    assert sent.status_code == 302
    announcement = db.session.scalar(
        select(Announcement).where(Announcement.title == "期末禁毒作业")
    )
    school = db.session.get(Unit, school_id)
    assert announcement.requires_ack and announcement.recipients == _guardians_under(school)


def test_a_reminder_reaches_those_who_have_not_read_it_once_in_a_while(client, ctx, signed_in):
    school = unit_by_code("S0101")
    sent = _post(client, "/api/v1/announcements", "school_admin",
                 {"title": "家访安排", "audience": [{"unit_id": school.id, "role": "guardian"}]})  # fmt: skip
    announcement_id = sent.get_json()["id"]
    assert (
        _post(client, f"/api/v1/announcements/{announcement_id}/read", "parent1").status_code == 200
    )
    admin = signed_in("school_admin")
    assert post_form(admin, f"/announcements/{announcement_id}/remind").status_code == 302
    reminded = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "announcement.reminder")
        )
    )
    assert len(reminded) == sent.get_json()["recipients"] - 1
    assert user("parent1").id not in reminded
    again = post_form(admin, f"/announcements/{announcement_id}/remind")
    assert again.status_code == 302
    follow = admin.get(f"/announcements/{announcement_id}").get_data(as_text=True)
    assert "小时" in follow  # the refusal, flashed
    assert db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.kind == "announcement.reminder")
    ) == len(reminded)
    assert (
        post_form(signed_in("teacher1"), f"/announcements/{announcement_id}/remind").status_code
        == 404
    )


def test_a_guardian_who_reads_an_announcement_counts_as_reached_once(client, ctx):
    from elearn.models import Term
    from elearn.service import coverage

    school = unit_by_code("S0101")
    term = db.session.scalar(select(Term).order_by(Term.starts_on.desc()))
    before = coverage.coverage(school, term)["parents_reached"].numerator
    for number, title in enumerate(("第一条通知", "第二条通知")):
        sent = _post(client, "/api/v1/announcements", "school_admin",
                     {"title": title, "audience": [{"unit_id": school.id, "role": "guardian"}]})  # fmt: skip
        announcement_id = sent.get_json()["id"]
        if number == 0:  # sent is not reached: read is
            assert coverage.coverage(school, term)["parents_reached"].numerator == before
        _post(client, f"/api/v1/announcements/{announcement_id}/read", "parent1")
    reached = coverage.coverage(school, term)["parents_reached"]
    assert reached.numerator == before + 1  # read twice, one guardian
    assert reached.denominator == coverage.coverage(school, term)["parents"].denominator
