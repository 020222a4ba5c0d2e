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
  var drafts = {};        // position -> what this person entered and has not sent yet
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
  // an answer or key in words: option texts, true/false, pairs, or the value itself
  function words(q, value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "boolean") return value ? T.quiz_true : T.quiz_false;
    var texts = {};
    ["options", "choices", "items"].forEach(function (field) {
      (q[field] || []).forEach(function (o) { texts[o.id] = plain(o.text); });
    });
    function text(v) {
      if (v === null || v === undefined || v === "") return "—";
      return Object.prototype.hasOwnProperty.call(texts, v) ? texts[v] : String(v);
    }
    if (!Array.isArray(value) && typeof value === "object") {  // matching: prompt → choice
      return (q.prompts || []).map(function (p) {
        return plain(p.text) + " → " + text(value[p.id]);
      }).join("；");
    }
    return (Array.isArray(value) ? value : [value]).map(text).join("、");
  }
  function choiceLabels(q) {
    if (q.type === "true_false") return [["true", T.quiz_true], ["false", T.quiz_false]];
    return (q.options || []).map(function (o) { return [o.id, plain(o.text)]; });
  }

  // ---- audience ----
  // One input per question type, as on the attempt page: `node` to show, `read` the answer as
  // the server takes it, `given` whether there is one to send, `restore` a draft.
  function choiceInput(q) {
    var multiple = q.type === "multiple_choice";
    var node = el("div", null, "live-quiz-inputs");
    choiceLabels(q).forEach(function (pair) {
      var label = el("label", null, "live-quiz-option");
      var input = el("input");
      input.type = multiple ? "checkbox" : "radio";
      input.name = "quiz-" + quiz.id + "-" + q.position;
      input.value = pair[0];
      label.appendChild(input);
      label.appendChild(el("span", pair[1]));
      node.appendChild(label);
    });
    function picked() {
      return Array.prototype.filter.call(node.querySelectorAll("input"), function (i) {
        return i.checked;
      }).map(function (i) { return i.value; });
    }
    return {
      node: node,
      read: function () {
        var values = picked();
        if (multiple) return values;
        if (!values.length) return null;
        return q.type === "true_false" ? values[0] === "true" : values[0];
      },
      given: function (a) { return a !== null && (!Array.isArray(a) || a.length > 0); },
      restore: function (a) {
        var chosen = (Array.isArray(a) ? a : [a]).map(String);
        node.querySelectorAll("input").forEach(function (i) { i.checked = chosen.indexOf(i.value) >= 0; });
      },
    };
  }
  function textInput(q) {
    var node = el("div", null, "live-quiz-inputs");
    var count = q.type === "fill_blank" ? Math.max(1, q.blanks || 1) : 1;
    for (var n = 1; n <= count; n++) {
      var label = el("label", count > 1 ? fill(T.quiz_blank, { n: n }) : T.quiz_type_answer,
        "live-quiz-blank");
      var input = el("input");
      input.type = "text";
      input.autocomplete = "off";
      input.maxLength = q.type === "numerical" ? 60 : 500;
      if (q.type === "numerical") input.inputMode = "decimal";
      label.appendChild(input);
      node.appendChild(label);
    }
    var inputs = function () { return Array.prototype.slice.call(node.querySelectorAll("input")); };
    return {
      node: node,
      read: function () {
        var values = inputs().map(function (i) { return i.value.trim(); });
        return q.type === "numerical" ? values[0] : values;
      },
      given: function (a) {
        return (Array.isArray(a) ? a : [a]).some(function (v) { return v !== ""; });
      },
      restore: function (a) {
        var values = Array.isArray(a) ? a : [a];
        inputs().forEach(function (i, n) { i.value = values[n] || ""; });
      },
    };
  }
  function matchingInput(q) {
    var node = el("div", null, "live-quiz-inputs");
    (q.prompts || []).forEach(function (p) {
      var label = el("label", plain(p.text), "live-quiz-match");
      var select = el("select");
      select.dataset.prompt = p.id;
      select.appendChild(el("option", T.quiz_choose)).value = "";
      (q.choices || []).forEach(function (c) { select.appendChild(el("option", plain(c.text))).value = c.id; });
      label.appendChild(select);
      node.appendChild(label);
    });
    return {
      node: node,
      read: function () {
        var pairs = {};
        node.querySelectorAll("select").forEach(function (s) { pairs[s.dataset.prompt] = s.value || null; });
        return pairs;
      },
      given: function (a) { return Object.keys(a).some(function (k) { return a[k]; }); },
      restore: function (a) {
        node.querySelectorAll("select").forEach(function (s) { s.value = a[s.dataset.prompt] || ""; });
      },
    };
  }
  function orderingInput(q) {
    var node = el("div", null, "live-quiz-inputs");
    node.appendChild(el("p", T.quiz_order_hint, "muted"));
    var list = el("ol", null, "live-quiz-order");
    (q.items || []).forEach(function (item) {
      var li = el("li");
      li.dataset.item = item.id;
      li.appendChild(el("span", plain(item.text)));
      var moves = el("span", null, "moves");
      [["up", "↑", T.quiz_move_up], ["down", "↓", T.quiz_move_down]].forEach(function (m) {
        var button = el("button", m[1], m[0]);
        button.type = "button";
        button.setAttribute("aria-label", m[2]);
        button.addEventListener("click", function () {
          var other = m[0] === "up" ? li.previousElementSibling : li.nextElementSibling;
          if (!other) return;
          list.insertBefore(m[0] === "up" ? li : other, m[0] === "up" ? other : li);
          node.dispatchEvent(new Event("change", { bubbles: true }));
        });
        moves.appendChild(button);
      });
      li.appendChild(moves);
      list.appendChild(li);
    });
    node.appendChild(list);
    return {
      node: node,
      read: function () {
        return Array.prototype.map.call(list.children, function (li) { return li.dataset.item; });
      },
      given: function () { return true; },
      restore: function (a) {
        a.forEach(function (id) {
          var li = list.querySelector('li[data-item="' + CSS.escape(id) + '"]');
          if (li) list.appendChild(li);
        });
      },
    };
  }
  var INPUTS = {
    single_choice: choiceInput, multiple_choice: choiceInput, true_false: choiceInput,
    fill_blank: textInput, numerical: textInput, matching: matchingInput, ordering: orderingInput,
  };
  function answerForm(q) {
    var form = el("form", null, "live-quiz-answer");
    var make = INPUTS[q.type];
    if (!make) {
      form.appendChild(el("p", T.quiz_unsupported, "muted"));
      return form;
    }
    var input = make(q);
    form.appendChild(input.node);
    // the tallies redraw the card up to once a second: what was entered is kept as a draft
    if (drafts[q.position] !== undefined) input.restore(drafts[q.position]);
    function keep() { drafts[q.position] = input.read(); }
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    var submit = el("button", T.quiz_submit, "primary");
    submit.type = "submit";
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answer = input.read();
      if (!input.given(answer)) { room.showError(T.quiz_pick_answer); return; }
      submit.disabled = true;
      room.send("quiz_answer", { quiz_id: quiz.id, position: q.position, answer: answer },
        function (reply) {
          if (reply && reply.ok) {
            answered[q.position] = true;
            delete drafts[q.position];
            room.showError("");
          } else submit.disabled = false;
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
    var title = quiz.title || T.quiz_default_title;
    byId("quiz-title").textContent = title;
    byId("quiz-prefix").hidden = title === T.quiz_default_title;  // not "Quick quiz: Quick quiz"
    var people = summary && summary.id === quiz.id ? summary.people : 0;
    byId("quiz-people").textContent = fill(T.quiz_people, { n: people });
    var list = byId("quiz-questions");
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
          if (row.type_label) label.appendChild(el("span", row.type_label, "chip"));
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
    if (!quiz || quiz.id !== q.id) { answered = {}; drafts = {}; result = null; summary = null; }
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
