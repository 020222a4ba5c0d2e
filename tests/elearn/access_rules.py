"""Access rules of the carrier's routes (see tests/access.py)."""

import io

from tests.access import ADMINS, EVERYONE, SIGNED_IN, Rule

SCHOOL_SIGHT = ADMINS | {"teacher1", "expert1"}


def _job_of_school_admin(ids: dict) -> str:
    """A finished roster import of school_admin's (jobs are seen by their creator only)."""
    from elearn.extensions import db
    from elearn.models import Job
    from tests.conftest import user

    job = Job(
        kind="roster_import",
        status="done",
        progress=100,
        created_by_id=user("school_admin").id,
        unit_id=ids["school"],
        errors=[],
        result={},
        attempts=0,
    )
    db.session.add(job)
    db.session.commit()
    return job.id


def _slip_of_school_admin(ids: dict, api: bool = False) -> str:
    """An account slip of a roster import of school_admin's (only its importer may open it)."""
    from elearn.extensions import db
    from elearn.models import AccountSlip
    from tests.conftest import user

    job_id = _job_of_school_admin(ids)
    slip = AccountSlip(
        job_id=job_id,
        unit_id=ids["class"],
        kind="class",
        created_by_id=user("school_admin").id,
        user_ids=[],
    )
    db.session.add(slip)
    db.session.commit()
    return f"{'/api/v1' if api else '/admin'}/jobs/{job_id}/slips/{slip.id}"


def _notice_of_student1(ids: dict) -> str:
    """A notice sent to student1 (only its recipient may open it)."""
    from elearn.extensions import db
    from elearn.models import Notification

    notice = Notification(user_id=ids["student1"], kind="test", title="提醒", body="", link="/")
    db.session.add(notice)
    db.session.commit()
    return f"/notifications/{notice.id}/open"


RULES = {
    "auth.login": Rule(lambda ids: "/login", EVERYONE),
    "auth.logout": Rule(lambda ids: "/logout", SIGNED_IN, method="POST"),
    "auth.change_password": Rule(lambda ids: "/account/password", SIGNED_IN),
    "auth.set_language": Rule(lambda ids: "/lang/en", EVERYONE),
    "home.index": Rule(lambda ids: "/", SIGNED_IN),
    "admin.units": Rule(lambda ids: "/admin/units", ADMINS),
    "admin.unit_detail": Rule(lambda ids: f"/admin/units/{ids['school']}", ADMINS),
    "admin.unit_edit": Rule(lambda ids: f"/admin/units/{ids['school']}/edit", ADMINS),
    "admin.unit_new_child": Rule(lambda ids: f"/admin/units/{ids['school']}/children/new", ADMINS),
    "admin.unit_delete": Rule(
        lambda ids: f"/admin/units/{ids['empty_class']}/delete", ADMINS, method="POST"
    ),
    "admin.unit_members": Rule(lambda ids: f"/admin/units/{ids['school']}/members", ADMINS),
    "admin.user_detail": Rule(lambda ids: f"/admin/users/{ids['student1']}", ADMINS),
    "admin.user_reset_password": Rule(
        lambda ids: f"/admin/users/{ids['student1']}/reset-password", ADMINS, method="POST"
    ),
    "slips.open_one": Rule(_slip_of_school_admin, frozenset({"school_admin"}), method="POST"),
    "slips.reset_class": Rule(
        lambda ids: f"/admin/units/{ids['class']}/account-slip", ADMINS, method="POST"
    ),
    "api.open_slip": Rule(
        lambda ids: _slip_of_school_admin(ids, api=True),
        frozenset({"school_admin"}),
        method="POST",
        json=True,
    ),
    "api.change_password": Rule(
        lambda ids: "/api/v1/auth/password",
        SIGNED_IN,
        method="POST",
        json=True,
        data=lambda ids: {"current_password": "not-it", "new_password": "another-one-1"},
    ),
    "admin.user_add_role": Rule(
        lambda ids: f"/admin/users/{ids['student1']}/roles",
        ADMINS,
        method="POST",
        data=lambda ids: {"role": "guardian", "unit_id": ids["class"]},
    ),
    "admin.user_remove_role": Rule(
        lambda ids: f"/admin/users/{ids['student1']}/roles/{ids['student1_role']}/delete",
        ADMINS,
        method="POST",
    ),
    "admin.terms": Rule(lambda ids: "/admin/terms", ADMINS),
    "admin.audit_log": Rule(lambda ids: "/admin/audit", ADMINS),
    "ops.healthz": Rule(lambda ids: "/healthz", EVERYONE),
    "ops.readyz": Rule(lambda ids: "/readyz", EVERYONE),
    "ops.favicon": Rule(lambda ids: "/favicon.ico", EVERYONE),
    # not a role's question: the scraper's address or token decides (tests/elearn/test_observability.py)
    "metrics.scrape": Rule(lambda ids: "/metrics", EVERYONE),
    "api.issue_token": Rule(
        lambda ids: "/api/v1/auth/token",
        EVERYONE,
        method="POST",
        json=True,
        data=lambda ids: {"username": "student1", "password": "demo1234"},
    ),
    "api.me": Rule(lambda ids: "/api/v1/me", SIGNED_IN),
    "api.my_notifications": Rule(lambda ids: "/api/v1/me/notifications", SIGNED_IN),
    "api.read_notifications": Rule(
        lambda ids: "/api/v1/me/notifications/read",
        SIGNED_IN,
        method="POST",
        json=True,
        data=lambda ids: {"all": True},
    ),
    "notifications.inbox": Rule(lambda ids: "/notifications", SIGNED_IN),
    "notifications.settings": Rule(lambda ids: "/notifications/settings", SIGNED_IN),
    "notifications.push_subscribe": Rule(
        lambda ids: "/notifications/push", SIGNED_IN, method="POST", json=True
    ),
    "notifications.push_unsubscribe": Rule(
        lambda ids: "/notifications/push/remove", SIGNED_IN, method="POST", json=True
    ),
    "notifications.service_worker": Rule(lambda ids: "/sw.js", EVERYONE),
    "notifications.open_one": Rule(_notice_of_student1, frozenset({"student1"}), method="POST"),
    "notifications.mark_all_read": Rule(
        lambda ids: "/notifications/read", SIGNED_IN, method="POST"
    ),
    "api.unit": Rule(lambda ids: f"/api/v1/units/{ids['school']}", SCHOOL_SIGHT),
    "api.unit_children": Rule(lambda ids: f"/api/v1/units/{ids['school']}/children", SCHOOL_SIGHT),
    "api.coverage_of_unit": Rule(lambda ids: f"/api/v1/coverage?unit={ids['school']}", ADMINS),
    "api.coverage_of_children": Rule(
        lambda ids: f"/api/v1/coverage/children?unit={ids['school']}", ADMINS
    ),
    # a class's teachers follow their class's coverage too
    "api.coverage_trend": Rule(
        lambda ids: f"/api/v1/coverage/trend?unit={ids['class']}", ADMINS | {"teacher1"}
    ),
    "api.coverage_ledger": Rule(
        lambda ids: f"/api/v1/ledgers/coverage?unit={ids['school']}", ADMINS
    ),
    "dashboard.home": Rule(lambda ids: "/dashboard", ADMINS | {"teacher1"}),
    "dashboard.unit": Rule(lambda ids: f"/dashboard/{ids['class']}", ADMINS | {"teacher1"}),
    "dashboard.remind": Rule(
        lambda ids: f"/dashboard/{ids['school']}/remind", ADMINS, method="POST"
    ),
    "api-docs.openapi_json": Rule(lambda ids: "/api/v1/openapi.json", EVERYONE),
    "rosters.upload": Rule(lambda ids: f"/admin/units/{ids['school']}/roster", ADMINS),
    "rosters.job": Rule(lambda ids: f"/admin/jobs/{_job_of_school_admin(ids)}", {"school_admin"}),
    "api.roster_template": Rule(lambda ids: "/api/v1/rosters/template?format=csv", SIGNED_IN),
    # without a file: admins of the school get past the permission check to a 400
    "api.roster_upload": Rule(
        lambda ids: "/api/v1/rosters",
        ADMINS,
        method="POST",
        # a file that is no roster: admins get the 400 that says so, everyone else a refusal
        data=lambda ids: {"unit": str(ids["school"]), "file": (io.BytesIO(b"x"), "roster.csv")},
    ),
    "api.job_status": Rule(
        lambda ids: f"/api/v1/jobs/{_job_of_school_admin(ids)}", {"school_admin"}
    ),
}
