// Quick quizzes in the lecture room (events in live/EVENTS.md): the host picks question-bank
// questions, starts and ends the quiz and sees the live tally; the audience answers each question
// once, sees how many answered, and after the close its own marks and the right answers.
// Uses room.js's socket and join queue (window.liveRoom). Every text goes in with textContent.
(function () {
  "use strict";
  var room = window.liveRoom;
  if (!room) return;
  var root = room.root;
  var T = JSON.parse(document.getElementById("live-strings").textContent);
  var MAX = 10;
  var quiz = null;        // the quiz as the `quiz` event has it (questions, no keys)
  var summary = null;     // the latest quiz_summary / quiz_tally
  var answered = {};      // position -> true, for this person
  var result = null;      // this person's result once the quiz is closed
  var asking = false;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function byId(id) { return document.getElementById(id); }
  // stems are sanitised HTML: shown as their text only
  function plain(html) {
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent.trim();
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return String(values[k]); });
  }
  function question(position) {
    if (!quiz) return null;
    for (var i = 0; i < quiz.questions.length; i++) {
      if (quiz.questions[i].position === position) return quiz.questions[i];
    }
    return null;
  }
  function stat(position) {
    if (!summary || !quiz || summary.id !== quiz.id) return null;
    for (var i = 0; i < summary.questions.length; i++) {
      if (summary.questions[i].position === position) return summary.questions[i];
    }
    return null;
  }
  // an answer or key in words: option texts, true/false, or the value itself
  function words(q, value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "boolean") return value ? T.quiz_true : T.quiz_false;
    var texts = {};
    (q.options || []).forEach(function (o) { texts[o.id] = plain(o.text); });
    var list = Array.isArray(value) ? value : [value];
    return list.map(function (v) {
      return Object.prototype.hasOwnProperty.call(texts, v) ? texts[v] : String(v);
    }).join("、");
  }
  function choiceLabels(q) {
    if (q.type === "true_false") return [["true", T.quiz_true], ["false", T.quiz_false]];
    return (q.options || []).map(function (o) { return [o.id, plain(o.text)]; });
  }

  // ---- audience ----
  function answerForm(q) {
    var form = el("form", null, "live-quiz-answer");
    var name = "quiz-" + quiz.id + "-" + q.position;
    var multiple = q.type === "multiple_choice";
    if (q.type !== "single_choice" && !multiple && q.type !== "true_false") {
      form.appendChild(el("p", T.quiz_unsupported, "muted"));
      return form;
    }
    choiceLabels(q).forEach(function (pair) {
      var label = el("label", null, "live-quiz-option");
      var input = el("input");
      input.type = multiple ? "checkbox" : "radio";
      input.name = name;
      input.value = pair[0];
      label.appendChild(input);
      label.appendChild(el("span", pair[1]));
      form.appendChild(label);
    });
    var submit = el("button", T.quiz_submit, "primary");
    submit.type = "submit";
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = Array.prototype.filter.call(form.querySelectorAll("input"), function (i) {
        return i.checked;
      }).map(function (i) { return i.value; });
      if (!picked.length) { room.showError(T.quiz_pick_answer); return; }
      var answer;
      if (multiple) answer = picked;
      else if (q.type === "true_false") answer = picked[0] === "true";
      else answer = picked[0];
      submit.disabled = true;
      room.send("quiz_answer", { quiz_id: quiz.id, position: q.position, answer: answer },
        function (reply) {
          if (reply && reply.ok) { answered[q.position] = true; room.showError(""); }
          else submit.disabled = false;
          showAudience();
        });
    });
    return form;
  }
  function showAudience() {
    var card = byId("quiz-card");
    if (!card || room.isHost) return;
    if (!quiz) { card.hidden = true; return; }
    card.hidden = false;
    card.dataset.state = quiz.is_open ? "open" : "closed";
    byId("quiz-title").textContent = quiz.title || T.quiz_default_title;
    var people = summary && summary.id === quiz.id ? summary.people : 0;
    byId("quiz-people").textContent = fill(T.quiz_people, { n: people });
    var list = byId("quiz-questions");
    // the tallies redraw the list up to once a second: keep what the student has picked
    var picked = {};
    Array.prototype.forEach.call(list.querySelectorAll("input:checked"), function (i) {
      picked[i.name + "=" + i.value] = true;
    });
    list.textContent = "";
    var marks = {};
    if (result) result.questions.forEach(function (r) { marks[r.position] = r; });
    quiz.questions.forEach(function (q, i) {
      var li = el("li", null, "live-quiz-question");
      li.dataset.position = String(q.position);
      li.appendChild(el("p", (i + 1) + ". " + plain(q.stem), "live-quiz-stem"));
      var s = stat(q.position);
      if (quiz.is_open) {
        if (answered[q.position]) li.appendChild(el("p", T.quiz_answered, "chip live-quiz-done"));
        else li.appendChild(answerForm(q));
        if (s) li.appendChild(el("p", fill(T.quiz_answered_count, { n: s.answered }), "muted"));
      } else {
        var mine = marks[q.position];
        if (mine) {
          var right = mine.fraction >= 1;
          var verdict = el("p", right ? T.quiz_right : (mine.fraction > 0 ? T.quiz_partly : T.quiz_wrong),
            "chip live-quiz-mark");
          verdict.dataset.fraction = String(mine.fraction);
          li.appendChild(verdict);
          li.appendChild(el("p", T.quiz_your_answer + words(q, mine.answer), "live-quiz-yours"));
          li.appendChild(el("p", T.quiz_key + words(q, mine.key), "live-quiz-key"));
        } else if (s && s.key !== undefined) {
          li.appendChild(el("p", T.quiz_key + words(q, s.key), "live-quiz-key"));
        }
        if (s && s.correct !== undefined) {
          li.appendChild(el("p", fill(T.quiz_room_correct, { n: s.correct, m: s.answered }), "muted"));
        }
      }
      list.appendChild(li);
    });
    Array.prototype.forEach.call(list.querySelectorAll("input"), function (i) {
      if (picked[i.name + "=" + i.value]) i.checked = true;
    });
    var score = byId("quiz-score");
    score.hidden = !result;
    if (result) score.textContent = fill(T.quiz_score, { score: result.score, max: result.max });
  }
  function fetchResult() {
    if (room.isHost || asking || result || !quiz || quiz.is_open) return;
    asking = true;
    room.send("quiz_result", { quiz_id: quiz.id }, function (reply) {
      asking = false;
      if (reply && reply.ok && quiz && reply.result.id === quiz.id) result = reply.result;
      showAudience();
    });
  }

  // ---- host ----
  function showTally() {
    var box = byId("quiz-tally");
    if (!box) return;
    if (!quiz) { box.hidden = true; return; }
    box.hidden = false;
    box.dataset.state = quiz.is_open ? "open" : "closed";
    byId("quiz-tally-title").textContent = (quiz.title || T.quiz_default_title) + " · " +
      (quiz.is_open ? T.quiz_open : T.quiz_closed);
    byId("quiz-tally-people").textContent = fill(T.quiz_people, { n: summary ? summary.people : 0 });
    byId("quiz-end").hidden = !quiz.is_open;
    var list = byId("quiz-tally-list");
    list.textContent = "";
    quiz.questions.forEach(function (q, i) {
      var li = el("li");
      li.dataset.position = String(q.position);
      li.appendChild(el("p", (i + 1) + ". " + plain(q.stem), "live-quiz-stem"));
      var s = stat(q.position);
      var answeredN = s ? s.answered : 0;
      var line = fill(T.quiz_answered_count, { n: answeredN });
      if (s && s.correct !== undefined) line += " · " + fill(T.quiz_correct_count, { n: s.correct });
      li.appendChild(el("p", line, "muted live-quiz-count"));
      if (s && s.chosen) {
        choiceLabels(q).forEach(function (pair) {
          var n = s.chosen[pair[0]] || 0;
          var row = el("div", null, "live-quiz-chosen");
          row.appendChild(el("span", pair[1]));
          var bar = el("span", null, "live-bar");
          bar.style.width = (answeredN ? Math.round(100 * n / answeredN) : 0) + "px";
          row.appendChild(bar);
          row.appendChild(el("span", " " + n, "muted"));
          li.appendChild(row);
        });
      }
      if (s && s.key !== undefined) li.appendChild(el("p", T.quiz_key + words(q, s.key), "live-quiz-key"));
      list.appendChild(li);
    });
  }
  function loadBanks() {
    var select = byId("quiz-bank");
    if (!select) return;
    fetch(select.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (banks) {
        select.textContent = "";
        banks.forEach(function (b) {
          var o = el("option", b.name + " (" + b.unit_name + ")");
          o.value = String(b.id);
          select.appendChild(o);
        });
        if (banks.length) loadQuestions();
        else byId("quiz-pick").appendChild(el("li", T.quiz_no_banks, "muted"));
      });
    select.addEventListener("change", loadQuestions);
  }
  function loadQuestions() {
    var select = byId("quiz-bank");
    var list = byId("quiz-pick");
    fetch(select.dataset.url + "/" + encodeURIComponent(select.value) + "/questions?quick=1",
      { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        list.textContent = "";
        if (!rows.length) list.appendChild(el("li", T.quiz_no_questions, "muted"));
        rows.forEach(function (row) {
          var li = el("li");
          var label = el("label");
          var box = el("input");
          box.type = "checkbox";
          box.value = String(row.id);
          box.name = "question_ids";
          label.appendChild(box);
          label.appendChild(el("span", " " + (row.stem || row.name)));
          li.appendChild(label);
          list.appendChild(li);
        });
      });
  }
  var form = byId("quiz-form");
  if (form) {
    form.addEventListener("change", function () {
      var boxes = form.querySelectorAll("input[name=question_ids]");
      var n = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
      Array.prototype.forEach.call(boxes, function (b) { b.disabled = !b.checked && n >= MAX; });
      byId("quiz-picked").textContent = fill(T.quiz_picked, { n: n, max: MAX });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var ids = Array.prototype.filter.call(form.querySelectorAll("input[name=question_ids]"),
        function (b) { return b.checked; }).map(function (b) { return Number(b.value); });
      if (!ids.length) { room.showError(T.quiz_pick_questions); return; }
      room.send("quiz_start", { question_ids: ids, title: form.title.value }, function (reply) {
        if (reply && reply.ok) {
          room.showError("");
          form.title.value = "";
          Array.prototype.forEach.call(form.querySelectorAll("input[name=question_ids]"),
            function (b) { b.checked = false; b.disabled = false; });
          byId("quiz-picked").textContent = fill(T.quiz_picked, { n: 0, max: MAX });
        }
      });
    });
    loadBanks();
  }
  var end = byId("quiz-end");
  if (end) end.addEventListener("click", function () {
    if (quiz) room.send("quiz_end", { quiz_id: quiz.id });
  });

  function render() { if (room.isHost) showTally(); else showAudience(); }
  function setQuiz(q, answeredPositions) {
    if (!quiz || quiz.id !== q.id) { answered = {}; result = null; summary = null; }
    quiz = q;
    (answeredPositions || []).forEach(function (p) { answered[p] = true; });
    render();
    fetchResult();
  }
  root.addEventListener("live:joined", function (event) {
    var open = event.detail.quiz;
    if (open) setQuiz(open, open.answered);
    else if (quiz && quiz.is_open) { quiz.is_open = false; render(); fetchResult(); }
  });
  room.socket.on("quiz", function (q) { setQuiz(q, []); });
  function onSummary(s) {
    if (!quiz || s.id !== quiz.id) return;
    // a late tally must not overwrite the final summary
    if (summary && !summary.is_open && s.is_open) return;
    summary = s;
    if (!s.is_open) quiz.is_open = false;
    render();
    fetchResult();
  }
  room.socket.on("quiz_summary", function (s) {
    if (room.isHost && s.is_open) return;  // the host's tally says more
    onSummary(s);
  });
  room.socket.on("quiz_tally", onSummary);
  window.liveQuiz = {
    state: function () { return { quiz: quiz, summary: summary, result: result }; },
    render: render,
  };
})();
