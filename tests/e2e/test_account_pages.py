"""Accounts in a real browser, on a phone: a roster import's account slip (print page, Excel),
a new student held at the password form, and an admin's role form with its unit picker."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e


def test_roster_slip_then_first_sign_in(new_page, shot, e2e_worker, e2e_artifacts, tmp_path):
    tag = os.urandom(2).hex().upper()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "学校代码,年级,班级,角色,编号,姓名,手机号,关联学生编号,关系\n"
        f",五年级,9班,学生,E2E{tag}1,陈一,,,\n"
        f",五年级,9班,学生,E2E{tag}2,陈二,,,\n"
        f",五年级,9班,家长,,陈一妈妈,1390{int(tag, 16):07d},E2E{tag}1,母亲\n",
        encoding="utf-8",
    )
    admin = new_page(viewport=PHONE)
    sign_in(admin, "school_admin")
    admin.goto("/admin/units")  # the school admin's own school
    admin.click("text=导入名单")
    admin.set_input_files("input[type=file]", str(roster))
    with admin.expect_navigation():
        admin.click("main form button[type=submit]")
    admin.wait_for_selector("#slips", timeout=60_000)  # the page reloads itself when done
    assert "新账号还没有密码" in admin.inner_text("#slips")
    assert_fits(admin)
    shot(admin, "job-page")
    with admin.expect_navigation():
        admin.locator("#slips li", has_text="9班").locator("button").click()
    assert admin.locator(".slip-card").count() == 3
    cards = admin.locator(".slip-card").all_inner_texts()
    assert any("陈一" in card and "E2E" in card for card in cards)
    logins = admin.locator(".slip-login").all_inner_texts()
    passwords = admin.locator(".slip-password").all_inner_texts()
    assert len(set(logins)) == 3 and all(len(p) == 10 for p in passwords)
    assert_fits(admin)
    shot(admin, "slip-phone")
    # the Excel inside the page: the same accounts and passwords
    with admin.expect_download() as download:
        admin.click("#slip-xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = {row[4]: row[5] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows == dict(zip(logins, passwords, strict=True))
    # on paper: no menu, no buttons, the slips two to a row
    admin.emulate_media(media="print")
    assert admin.locator(".topbar").is_hidden() and admin.locator(".slip-controls").is_hidden()
    pdf = tmp_path / "slip.pdf"
    admin.pdf(path=str(pdf), format="A4")
    assert pdf.stat().st_size > 1000
    if shutil.which("pdftoppm"):
        import subprocess

        out = tmp_path / "slip-a4"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(out)], check=True
        )
        for made in tmp_path.glob("slip-a4*.png"):
            shutil.copy(made, e2e_artifacts / "test_roster_slip-print-a4.png")
    admin.emulate_media(media="screen")
    # shown once: going back and sending the form again gets the refusal
    admin.go_back()
    admin.reload()
    assert "已显示" in admin.inner_text("#slips")

    student = new_page(viewport=PHONE)
    index = logins.index(f"E2E{tag}1")
    sign_in(student, logins[index], passwords[index])
    assert "/account/password" in student.url
    assert "账号单" in student.inner_text("main")
    assert student.locator(".menu a").count() == 0  # nothing else to go to yet
    assert_fits(student)
    shot(student, "must-change")
    student.goto("/notifications")
    assert "/account/password" in student.url
    student.fill("input[name=current_password]", passwords[index])
    student.fill("input[name=new_password]", "chen-yi-own-1")
    with student.expect_navigation():
        student.click("main form button[type=submit]")
    assert student.url.endswith("/notifications"), student.url  # where it was going
    assert "密码已修改" in student.inner_text("main")


def test_role_form_offers_units_by_name(new_page, shot):
    admin = new_page(viewport=PHONE)
    sign_in(admin, "school_admin")
    admin.goto("/admin/units")  # find teacher1 through the school's people
    admin.click("text=人员")
    admin.fill("input[name=q]", "teacher1")
    admin.keyboard.press("Enter")
    admin.wait_for_load_state()
    admin.locator("main a", has_text="李老师").first.click()
    form = admin.locator("#add-role")
    options = form.locator("select[name=unit_id] option").all_inner_texts()
    assert "五年级1班 · 示范州 / 示范市 / 示范市第一小学 / 五年级" in options
    roles = form.locator("select[name=role] option").all_inner_texts()
    assert "教师" in roles and "学校管理员" not in roles
    form.locator("select[name=unit_id]").select_option(
        label="五年级 · 示范州 / 示范市 / 示范市第一小学"
    )
    assert_fits(admin)
    form.scroll_into_view_if_needed()
    shot(admin, "role-form")
