"""One place for times: the installation's zone from ELEARN_TIMEZONE (checked at start-up), forms'
wall-clock values converted to UTC, and columns that keep aware UTC and refuse a naive time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from elearn import config, localtime
from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import ServiceError
from tests.conftest import user


def test_an_unknown_zone_stops_the_start_with_a_message_that_says_what_to_write(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("ELEARN_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("ELEARN_TIMEZONE", "Asia/Beijing")  # not an IANA name
    with pytest.raises(config.ConfigError, match="ELEARN_TIMEZONE.*Asia/Shanghai"):
        config.load(tmp_path)
    monkeypatch.setenv("ELEARN_TIMEZONE", "Asia/Urumqi")
    loaded = config.load(tmp_path)
    assert loaded["TIMEZONE"] == loaded["BABEL_DEFAULT_TIMEZONE"] == "Asia/Urumqi"
    monkeypatch.delenv("ELEARN_TIMEZONE")
    assert config.load(tmp_path)["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"


def test_a_forms_wall_clock_time_is_converted_to_utc_and_back(ctx):
    typed = datetime(2030, 3, 1, 20, 43)
    stored = localtime.from_local(typed)
    assert stored == datetime(2030, 3, 1, 12, 43, tzinfo=UTC) and stored.utcoffset() == timedelta(0)
    assert localtime.wall_clock(stored) == typed
    assert localtime.to_local(stored).utcoffset() == timedelta(hours=8)
    with pytest.raises(ServiceError):
        localtime.from_local(datetime(1, 1, 1))


def test_the_api_time_needs_its_offset(ctx):
    east = timezone(timedelta(hours=8))
    assert localtime.parse_api_time("2030-03-01T20:43:00+08:00", "at") == datetime(
        2030, 3, 1, 20, 43, tzinfo=east
    )
    assert localtime.parse_api_time("2030-03-01T12:43Z", "at").tzinfo == UTC
    assert localtime.parse_api_time("", "at") is None
    with pytest.raises(ServiceError) as naive:
        localtime.parse_api_time("2030-03-01T20:43", "at")
    assert naive.value.status == 422 and "+08:00" in naive.value.message
    for far in ("9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+08:00"):
        with pytest.raises(ServiceError) as error:  # one offset away from no datetime at all
            localtime.parse_api_time(far, "at")
        assert error.value.status == 422 and "1900" in error.value.message
    for wrong in ("tomorrow", 20300301, ["2030-03-01T20:43+08:00"]):
        with pytest.raises(ServiceError) as error:
            localtime.parse_api_time(wrong, "at")
        assert error.value.status == 400 and error.value.field == "at"


def test_a_column_keeps_the_moment_and_hands_it_back_in_utc(ctx):
    person = user("student1")
    person.locked_until = datetime(2030, 3, 1, 20, 43, tzinfo=timezone(timedelta(hours=8)))
    db.session.flush()
    db.session.expire(person)
    back = db.session.scalar(select(User.locked_until).where(User.id == person.id))
    assert back == datetime(2030, 3, 1, 12, 43, tzinfo=UTC) and back.utcoffset() == timedelta(0)


def test_a_naive_time_never_reaches_the_database(ctx):
    person = user("student1")
    person.locked_until = datetime(2030, 3, 1, 20, 43)  # whose 20:43?
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()
