"""A quick quiz in Chromium: expert1 picks a demo bank question in the room's quick-quiz panel and
starts it; student1 (on a phone) answers; the expert's tally counts the answer; the expert ends
the quiz; the student sees their mark and the right answer, and the room's summary.
"""

from __future__ import annotations

from tests.e2e.conftest import DESKTOP, PHONE, sign_in
from tests.live.conftest import create_lecture, unit_id
from tests.live.test_quick_quiz import SINGLE

PATIENT = {"timeout": 60_000}
RIGHT = "6月26日"  # the demo question's right option


def test_quick_quiz_from_panel_to_result(live_url, token, new_page, shot):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}],
                                title="随堂测验直播课")  # fmt: skip

    expert = new_page(viewport=DESKTOP)
    sign_in(expert, "expert1")
    expert.goto(f"/lectures/{lecture_id}")
    expert.wait_for_function("document.getElementById('live-room').dataset.joined === '1'")
    pick = expert.locator("#quiz-pick li", has_text=SINGLE)
    pick.wait_for(**PATIENT)
    # only questions a quick quiz takes are offered: no short answers, no opinions
    assert expert.locator("#quiz-pick input").count() >= 3

    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto(f"/lectures/{lecture_id}")
    student.wait_for_function("document.getElementById('live-room').dataset.joined === '1'")
    assert student.locator("#quiz-card").is_hidden()
    assert student.locator("#quiz-host").count() == 0  # hosts only

    pick.locator("input").check()
    assert "1" in expert.inner_text("#quiz-picked")
    expert.fill("#quiz-form input[name=title]", "禁毒常识小测")
    expert.get_by_role("button", name="开始随堂测验").click()
    expert.locator("#quiz-tally-list li", has_text=SINGLE).wait_for(**PATIENT)

    card = student.locator("#quiz-card")
    card.wait_for(state="visible", **PATIENT)
    assert student.inner_text("#quiz-card h2") == "随堂测验: 禁毒常识小测"
    question = student.locator("#quiz-questions li", has_text=SINGLE)
    question.locator("label", has_text=RIGHT).click()
    # the room's tallies redraw the card (up to once a second): one arriving now keeps the pick
    student.evaluate("window.liveQuiz.render()")
    assert question.locator("input:checked").count() == 1
    shot(student, "quiz-open")
    question.get_by_role("button", name="提交答案").click()
    question.locator(".live-quiz-done").wait_for(**PATIENT)
    assert question.locator("form").count() == 0  # one answer per question

    # the host's tally (at most one a second) counts the answer and the right one
    expert.wait_for_function(
        "(window.liveQuiz.state().summary || {people: 0}).people === 1", **PATIENT
    )
    tally = expert.inner_text("#quiz-tally-list")
    assert "1 人作答" in tally and "1 人答对" in tally
    shot(expert, "quiz-tally")

    expert.get_by_role("button", name="结束随堂测验").click()
    student.locator("#quiz-card[data-state=closed] .live-quiz-key").wait_for(**PATIENT)
    student.locator("#quiz-score").wait_for(state="visible", **PATIENT)
    text = student.inner_text("#quiz-card")
    assert f"正确答案：{RIGHT}" in text
    assert f"你的答案：{RIGHT}" in text
    assert "1 人作答，1 人答对" in text
    assert "你的得分：1" in student.inner_text("#quiz-score")
    assert question.locator(".live-quiz-mark").inner_text() == "正确"
    shot(student, "quiz-result")
    expert.locator("#quiz-tally[data-state=closed] .live-quiz-key").wait_for(**PATIENT)
    assert expert.locator("#quiz-end").is_hidden()
    shot(expert, "quiz-closed")


FILL = "我国的禁毒工作实行"
MATCHING = "把毒品与它常见的伪装连起来"
ORDERING = "有人引诱你吸毒时"
PAIRS = {"LSD": "邮票", "甲卡西酮": "“浴盐”", "大麻": "“巧克力”/饼干"}
ORDER = ["察觉异常", "坚决拒绝", "迅速离开", "告诉老师或家长"]  # the demo question's right order
#: an ordering item's own text, without its move buttons (innerText of the whole item puts them on
#: a line of their own or not, as the layout falls)
ITEM_TEXTS = "ol li > span:first-child"


def test_blank_matching_and_ordering_are_answered_in_the_room(live_url, token, new_page, shot):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}],
                                title="随堂测验题型")  # fmt: skip
    expert = new_page(viewport=DESKTOP)
    sign_in(expert, "expert1")
    expert.goto(f"/lectures/{lecture_id}")
    expert.wait_for_function("document.getElementById('live-room').dataset.joined === '1'")
    for stem, kind in ((FILL, "填空题"), (MATCHING, "匹配题"), (ORDERING, "排序题")):
        pick = expert.locator("#quiz-pick li", has_text=stem)
        pick.wait_for(**PATIENT)
        assert pick.locator(".chip").inner_text() == kind  # the host sees each question's type
        pick.locator("input").check()
    shot(expert, "types-picker")
    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto(f"/lectures/{lecture_id}")
    student.wait_for_function("document.getElementById('live-room').dataset.joined === '1'")
    expert.get_by_role("button", name="开始随堂测验").click()

    card = student.locator("#quiz-card")
    card.wait_for(state="visible", **PATIENT)
    assert "无法在这里作答" not in card.inner_text()
    assert student.inner_text("#quiz-card h2") == "随堂测验"  # untitled: not "随堂测验: 随堂测验"
    fill_in = student.locator("#quiz-questions li", has_text=FILL)
    fill_in.get_by_label("你的答案").fill("吸")
    matching = student.locator("#quiz-questions li", has_text=MATCHING)
    for prompt, choice in PAIRS.items():
        matching.get_by_label(prompt).select_option(label=choice)
    ordering = student.locator("#quiz-questions li", has_text=ORDERING)
    for place, text in enumerate(ORDER):  # move each item up to its place, as a thumb would
        item = ordering.locator("li", has_text=text)
        while ordering.locator(ITEM_TEXTS).nth(place).inner_text() != text:
            item.get_by_role("button", name="上移").click()
    # a tally arriving now redraws the card: what the student entered stays
    student.evaluate("window.liveQuiz.render()")
    assert fill_in.locator("input").input_value() == "吸"
    assert matching.get_by_label("LSD").evaluate("s => s.selectedOptions[0].text") == "邮票"
    assert ordering.locator(ITEM_TEXTS).all_inner_texts() == ORDER
    shot(student, "types-open")
    for question in (fill_in, matching, ordering):
        question.get_by_role("button", name="提交答案").click()
        question.locator(".live-quiz-done").wait_for(**PATIENT)

    expert.wait_for_function(
        "(window.liveQuiz.state().summary || {people: 0}).people === 1", **PATIENT
    )
    # one person, three answers: the tally moves with each of them
    expert.wait_for_function(
        "document.getElementById('quiz-tally-list').innerText.split('1 人答对').length === 4",
        **PATIENT,
    )
    expert.get_by_role("button", name="结束随堂测验").click()
    student.locator("#quiz-score").wait_for(state="visible", **PATIENT)
    for question in (fill_in, matching, ordering):
        assert question.locator(".live-quiz-mark").inner_text() == "正确"
    assert "你的答案：吸" in fill_in.inner_text()
    assert "LSD → 邮票" in matching.locator(".live-quiz-key").inner_text()
    assert "、".join(ORDER) in ordering.locator(".live-quiz-key").inner_text()
    assert "你的得分：3" in student.inner_text("#quiz-score")
    shot(student, "types-result")
