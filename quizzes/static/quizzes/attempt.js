/* The attempt page: autosave with per-question sequence numbers, a countdown from the server's
 * deadline (seconds left, measured on the monotonic clock, never the device's wall clock; set
 * again from every save's reply and from the clock asked now and then, so a quiz closed early
 * shortens it), retry on a bad connection, one question per screen, submit. */
(function () {
  "use strict";
  var root = document.getElementById("attempt");
  if (!root) return;
  var messages = JSON.parse(document.getElementById("attempt-messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var saveUrl = root.dataset.saveUrl.replace(/0$/, "");
  // the session's CSRF token, and the attempt's save key (the server's fast lane for autosaves;
  // a save it refuses goes on to the session's check)
  var saveHeaders = { "Content-Type": "application/json", "X-CSRFToken": csrf };
  if (root.dataset.saveKey) saveHeaders["X-Attempt-Key"] = root.dataset.saveKey;
  var stateEl = document.getElementById("save-state");
  var errorEl = document.getElementById("attempt-error");
  var questions = Array.prototype.slice.call(root.querySelectorAll(".question"));
  var pending = {};   // question id -> {answer, seq}
  var inFlight = {};
  var seqs = {};
  var submitting = false;
  var closed = false;

  function setState(text) { stateEl.textContent = text; }
  function showError(text) { errorEl.textContent = text; errorEl.hidden = !text; }

  // --- reading and restoring answers -------------------------------------------------------
  function readAnswer(q) {
    var type = q.dataset.type;
    if (type === "single_choice" || type === "opinion") {
      var checked = q.querySelector("input:checked");
      return checked ? checked.value : null;
    }
    if (type === "multiple_choice") {
      return Array.prototype.map.call(q.querySelectorAll("input:checked"), function (i) { return i.value; });
    }
    if (type === "true_false") {
      var tf = q.querySelector("input:checked");
      return tf ? tf.value === "true" : null;
    }
    if (type === "fill_blank") {
      return Array.prototype.map.call(q.querySelectorAll(".blank"), function (i) { return i.value; });
    }
    if (type === "numerical") { return q.querySelector(".blank").value; }
    if (type === "short_answer") { return q.querySelector("textarea").value; }
    if (type === "matching") {
      var pairs = {};
      q.querySelectorAll("select").forEach(function (s) { pairs[s.dataset.prompt] = s.value || null; });
      return pairs;
    }
    if (type === "ordering") {
      return Array.prototype.map.call(q.querySelectorAll("li"), function (li) { return li.dataset.item; });
    }
    return null;
  }

  function restore(q, answer) {
    if (answer === null || answer === undefined) return;
    var type = q.dataset.type;
    if (type === "single_choice" || type === "multiple_choice" || type === "opinion") {
      var chosen = [].concat(answer);
      q.querySelectorAll("input").forEach(function (i) { i.checked = chosen.indexOf(i.value) >= 0; });
    } else if (type === "true_false") {
      q.querySelectorAll("input").forEach(function (i) { i.checked = (i.value === "true") === answer; });
    } else if (type === "fill_blank") {
      var values = [].concat(answer);
      q.querySelectorAll(".blank").forEach(function (i, n) { i.value = values[n] || ""; });
    } else if (type === "numerical") {
      q.querySelector(".blank").value = answer;
    } else if (type === "short_answer") {
      q.querySelector("textarea").value = answer;
    } else if (type === "matching") {
      q.querySelectorAll("select").forEach(function (s) { s.value = answer[s.dataset.prompt] || ""; });
    } else if (type === "ordering") {
      var list = q.querySelector("ol");
      answer.forEach(function (id) {
        var li = list.querySelector('li[data-item="' + id + '"]');
        if (li) list.appendChild(li);
      });
    }
  }

  function isAnswered(q) {
    var a = readAnswer(q);
    if (a === null || a === undefined) return false;
    if (Array.isArray(a)) return a.some(function (v) { return v !== "" && v !== null; }) && (q.dataset.type !== "ordering" || q.dataset.touched === "1");
    if (typeof a === "object") return Object.keys(a).some(function (k) { return a[k]; });
    return a !== "";
  }

  // --- saving ------------------------------------------------------------------------------
  function queueSave(q) {
    var id = q.dataset.qid;
    seqs[id] = (seqs[id] || 0) + 1;
    pending[id] = { answer: readAnswer(q), seq: seqs[id] };
    markNav();
    flush();
  }

  var retryDelay = 1000;
  var retryTimer = null;

  // the server is briefly unavailable (a restart: 502/503/504, which say when to come back)
  function unavailable(response) {
    return response.status === 502 || response.status === 503 || response.status === 504;
  }

  // keep the newest answer of a save that did not arrive and send it again later, with its own
  // seq: after the server's Retry-After, or after a backoff that doubles up to 15 s
  function retryLater(id, body, retryAfter) {
    if (!pending[id]) pending[id] = body;
    setState(messages.offline);
    var wait = parseInt(retryAfter, 10) * 1000;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; flush(); },
                            wait > 0 ? Math.min(wait, 30000) : retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  }

  function flush() {
    if (closed) return Promise.resolve();
    var ids = Object.keys(pending).filter(function (id) { return !inFlight[id]; });
    if (!ids.length) {
      if (!Object.keys(inFlight).length) setState(messages.saved);
      return Promise.resolve();
    }
    setState(messages.saving);
    return Promise.all(ids.map(function (id) {
      var body = pending[id];
      delete pending[id];
      inFlight[id] = body;
      return fetch(saveUrl + id, {
        method: "PUT",
        credentials: "same-origin",
        headers: saveHeaders,
        body: JSON.stringify(body)
      }).then(function (response) {
        delete inFlight[id];
        if (response.ok) {
          retryDelay = 1000;
          return response.json().then(function (data) { resync(data.seconds_left); }, function () {});
        }
        if (unavailable(response)) { retryLater(id, body, response.headers.get("Retry-After")); return; }
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.status === 409 && data.time_up) {
            // the deadline (and its few seconds of slack) passed: nothing more is saved, and
            // what was saved in time is submitted now (the grace is for that)
            closed = true;
            resync(0);
            showError(messages.timeupSave);
            setState(messages.timeup);
            submit(true);
            return;
          }
          if (response.status === 409) {
            if (/newer|更新/.test(data.message || "")) { showError(messages.conflict); return; }
            closed = true;
            showError(data.message || messages.closed);
            return;
          }
          showError(data.message || "");
        });
      }, function () {
        delete inFlight[id];  // the network failed
        retryLater(id, body, null);
      });
    })).then(function () {
      if (Object.keys(pending).length) {
        if (retryTimer === null) return flush();  // changed while in flight: send the newest
        return;  // waiting to send again after a failure
      }
      if (!Object.keys(inFlight).length && !errorEl.textContent) setState(messages.saved);
    });
  }
  window.addEventListener("online", flush);

  // --- wiring the questions ----------------------------------------------------------------
  var typingTimers = {};
  questions.forEach(function (q) {
    var id = q.dataset.qid;
    seqs[id] = parseInt(q.dataset.seq, 10) || 0;
    restore(q, JSON.parse(q.dataset.answer));
    if (q.dataset.type === "ordering" && seqs[id] > 0) q.dataset.touched = "1";
    q.addEventListener("change", function () { queueSave(q); });
    q.addEventListener("input", function (event) {
      if (event.target.tagName !== "INPUT" && event.target.tagName !== "TEXTAREA") return;
      if (event.target.type === "radio" || event.target.type === "checkbox") return;
      clearTimeout(typingTimers[id]);
      typingTimers[id] = setTimeout(function () { queueSave(q); }, 800);
    });
    q.querySelectorAll(".ordering .up, .ordering .down").forEach(function (button) {
      button.addEventListener("click", function () {
        var li = button.closest("li");
        if (button.classList.contains("up") && li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling);
        if (button.classList.contains("down") && li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li);
        q.dataset.touched = "1";
        queueSave(q);
      });
    });
  });

  // --- one question per screen -------------------------------------------------------------
  var paged = root.dataset.onePerPage === "true";
  var current = 0;
  var dots = Array.prototype.slice.call(root.querySelectorAll(".qdot"));
  function show(index) {
    current = Math.max(0, Math.min(questions.length - 1, index));
    questions.forEach(function (q, n) { q.classList.toggle("shown", n === current); });
    dots.forEach(function (d, n) { d.classList.toggle("current", paged && n === current); });
    document.getElementById("prev").hidden = !paged || current === 0;
    document.getElementById("next").hidden = !paged || current === questions.length - 1;
    try { sessionStorage.setItem("attempt-page-" + root.dataset.attempt, String(current)); } catch (e) { /* private mode */ }
  }
  function markNav() {
    dots.forEach(function (d, n) { d.classList.toggle("answered", isAnswered(questions[n])); });
  }
  if (paged) root.classList.add("paged");
  dots.forEach(function (d) {
    d.addEventListener("click", function () {
      var n = parseInt(d.dataset.goto, 10);
      if (paged) show(n); else questions[n].scrollIntoView({ behavior: "smooth" });
    });
  });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); window.scrollTo(0, 0); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); window.scrollTo(0, 0); });
  var remembered = 0;
  try { remembered = parseInt(sessionStorage.getItem("attempt-page-" + root.dataset.attempt), 10) || 0; } catch (e) { remembered = 0; }
  show(remembered);
  markNav();

  // --- submit ------------------------------------------------------------------------------
  function submit(auto) {
    if (submitting) return;
    if (!auto) {
      var open = questions.filter(function (q) { return !isAnswered(q); }).length;
      var text = messages.confirm + (open ? "\n" + messages.unanswered.replace("{n}", open) : "");
      if (!window.confirm(text)) return;
    }
    submitting = true;
    document.getElementById("submit").disabled = true;
    flush().then(function () {
      // an answer still waiting to be sent again is not submitted without it
      if (Object.keys(pending).length) return null;
      return fetch(root.dataset.submitUrl, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf }
      });
    }).then(function (response) {
      if (response === null || unavailable(response)) {
        // nothing was submitted: the answers stay saved, and the submission is sent again
        submitting = false;
        document.getElementById("submit").disabled = false;
        setState(messages.offline);
        var wait = response ? (parseInt(response.headers.get("Retry-After"), 10) || 5) * 1000 : retryDelay;
        if (auto) setTimeout(function () { submit(true); }, Math.min(wait, 30000));
        else if (response) response.json().then(function (data) { showError(data.message || ""); }, function () {});
        return;
      }
      closed = true;
      if (response.ok) {
        return response.json().then(function (data) {
          window.location.assign(data.next_url || root.dataset.resultUrl);
        });
      }
      if (response.status === 409) { window.location.assign(root.dataset.resultUrl); return; }
      submitting = false;
      document.getElementById("submit").disabled = false;
      return response.json().then(function (data) { showError(data.message || ""); });
    }, function () {
      submitting = false;
      document.getElementById("submit").disabled = false;
      setState(messages.offline);
    });
  }
  document.getElementById("submit").addEventListener("click", function () { submit(false); });

  // --- countdown from the server's "seconds left", on the monotonic clock ------------------
  var countdown = document.getElementById("countdown");
  var endsAt = null;
  function resync(secondsLeft) {
    if (typeof secondsLeft === "number") endsAt = performance.now() + secondsLeft * 1000;
  }
  if (countdown && root.dataset.secondsLeft !== "") {
    resync(parseInt(root.dataset.secondsLeft, 10));
    var tick = function () {
      var left = Math.max(0, Math.round((endsAt - performance.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      countdown.textContent = (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
      countdown.classList.toggle("low", left <= 60);
      if (left <= 0) { setState(messages.timeup); submit(true); return; }
      setTimeout(tick, 250);
    };
    tick();
  }

  // --- the server's clock, asked every two minutes or so and when the page is shown again ---
  var clockUrl = root.dataset.clockUrl;
  function askClock() {
    if (!clockUrl || closed || submitting) return;
    fetch(clockUrl, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data) return;
      if (data.state !== "in_progress") {
        closed = true;
        showError(messages.closed);
        window.location.assign(root.dataset.resultUrl);
        return;
      }
      resync(data.seconds_left);
    }, function () { /* offline: the next ask, or the next save, will tell */ });
  }
  if (clockUrl) {
    (function schedule() {
      setTimeout(function () { askClock(); schedule(); }, 100000 + Math.random() * 40000);
    })();
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") askClock();
    });
  }
})();
