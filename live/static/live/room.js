// The lecture room: chat, questions, hands and polls over Socket.IO (/live).
// Every text from the server is put in the page with textContent, never innerHTML.
(function () {
  "use strict";
  var root = document.getElementById("live-room");
  if (!root || typeof io === "undefined") return;
  var lectureId = Number(root.dataset.lectureId);
  var isHost = root.dataset.isHost === "true";
  var T = JSON.parse(document.getElementById("live-strings").textContent);
  var lastSeenId = 0;
  var ended = false;
  var classScreen = null;
  var socket = io("/live", { transports: ["websocket"] });

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function button(label, onClick) {
    var b = el("button", label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  function showError(message) {
    var box = document.getElementById("live-error");
    box.textContent = message;
    box.hidden = !message;
  }
  function localTime(iso) {
    // the installation's clock, as the server-rendered page shows it
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        timeZone: root.dataset.timezone, year: "numeric", month: "numeric", day: "numeric",
        hour: "2-digit", minute: "2-digit", hour12: false,
      }).format(new Date(iso));
    } catch (e) { return iso; }
  }
  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }
  function setStatus(status, settings) {
    document.getElementById("live-status").dataset.status = status;
    document.getElementById("live-status-text").textContent = T[status] || status;
    if (status !== "ended") return;
    // the room closes: no input is offered any more (the server refuses them too)
    ended = true;
    each(".live-open-only, .live-upvote", function (node) { node.hidden = true; });
    each("#poll-choices button, #poll-end", function (node) { node.hidden = true; });
    var closed = document.getElementById("live-closed");
    if (closed) closed.hidden = false;
    var over = document.getElementById("live-over");
    if (over) over.hidden = false;
    var at = document.getElementById("live-ended-at");
    if (at && settings && settings.ended_at) {
      at.textContent = T.ended_at.replace("{time}", localTime(settings.ended_at));
      at.hidden = false;
    }
  }
  function seen(message) { if (message.id > lastSeenId) lastSeenId = message.id; }

  function line(message) {
    var li = el("li");
    li.id = "msg-" + message.id;
    li.appendChild(el("span", message.author ? message.author.name : "", "live-author"));
    li.appendChild(el("span", message.deleted ? T.deleted : message.text, "live-text"));
    var actions = el("span", null, "live-actions");
    if (message.kind === "question") {
      var count = el("b", String(message.upvotes), "live-upvotes");
      actions.appendChild(count);
      var up = button(T.upvote, function () {
        send("upvote", { message_id: message.id });
      });
      up.className = "live-upvote";
      up.hidden = ended;
      actions.appendChild(up);
    }
    if (isHost && message.author && !message.deleted) {
      actions.appendChild(button(T["delete"], function () {
        send("moderate", { action: "delete", message_id: message.id });
      }));
      actions.appendChild(button(T.mute, function () {
        send("moderate", { action: "mute", user_id: message.author.id });
      }));
      actions.appendChild(button(T.ban, function () {
        send("moderate", { action: "ban", user_id: message.author.id });
      }));
    }
    li.appendChild(actions);
    return li;
  }
  function upsert(listId, message) {
    seen(message);
    var list = document.getElementById(listId);
    if (!list) return;
    var old = document.getElementById("msg-" + message.id);
    var node = line(message);
    if (old) old.replaceWith(node); else list.appendChild(node);
    if (listId === "chat") list.scrollTop = list.scrollHeight;
  }
  function addHand(message) {
    seen(message);
    var list = document.getElementById("hands");
    if (!list) return;
    list.appendChild(el("li", (message.author ? message.author.name : "") + " " + T.hand));
  }
  function showMessage(message) {
    if (message.kind === "chat") upsert("chat", message);
    else if (message.kind === "question") upsert("questions", message);
    else if (message.kind === "hand") addHand(message);
    else seen(message);
  }
  var currentPoll = null;
  var answered = {};
  function showPoll(summary) {
    if (!summary) return;
    currentPoll = summary;
    var card = document.getElementById("poll-card");
    card.hidden = false;
    document.getElementById("poll-question").textContent = summary.question;
    var list = document.getElementById("poll-choices");
    list.textContent = "";
    var total = summary.total || 0;
    summary.choices.forEach(function (choice, i) {
      var li = el("li");
      li.appendChild(el("span", choice));
      var n = summary.counts ? summary.counts[i] : 0;
      var bar = el("span", null, "live-bar");
      bar.style.width = (total ? Math.round(100 * n / total) : 0) + "px";
      li.appendChild(bar);
      li.appendChild(el("span", " " + n, "muted"));
      if (summary.is_open && !ended && !isHost && !answered[summary.id]) {
        li.appendChild(button(T.vote, function () {
          send("poll_answer", { poll_id: summary.id, choice: i }, function (reply) {
            if (reply && reply.ok) {
              answered[summary.id] = true;
              showPoll(currentPoll);
            }
          });
        }));
      }
      list.appendChild(li);
    });
    document.getElementById("poll-total").textContent = String(total);
  }

  function join() {
    var data = { lecture_id: lectureId, last_seen_id: lastSeenId };
    if (classScreen) data.class_screen = classScreen;
    socket.emit("join", data);
  }
  // Room events wait for the join: after a reconnect, socket.io flushes what was emitted while
  // offline before our "connect" handler re-joins, and the server refuses events from a socket
  // that has not joined. Queue them here and send once the room has answered "joined".
  var joined = false;
  var waiting = [];
  // An acknowledged event that hears nothing back (the connection dropped after it went out):
  // one the server treats the same when repeated (a read; a quiz answer, where the same answer
  // again is that answer) is sent again once the room is rejoined; any other is reported as
  // failed, so its button comes back, rather than done twice (a second quiz, a second stream).
  var ACK_TIMEOUT_MS = 10000;
  var SAFE_TO_REPEAT = { quiz_answer: true, quiz_result: true, room: true };
  function emitNow(event, data, ack) {
    if (!ack) { socket.emit(event, data); return; }
    socket.timeout(ACK_TIMEOUT_MS).emit(event, data, function (err, reply) {
      if (!err) ack(reply);
      else if (SAFE_TO_REPEAT[event]) send(event, data, ack);
      else ack({ ok: false, error: T.disconnected });
    });
  }
  function send(event, data, ack) {
    if (joined) emitNow(event, data, ack);
    else waiting.push([event, data, ack]);
  }
  socket.on("connect", function () { showError(""); join(); });
  // the server's message queue came back after an outage: lines sent meanwhile reached no one;
  // join again with the last line seen, and the room replays what came after it
  // (what the user does meanwhile waits for the new join, as after a reconnect)
  socket.on("resync", function () { joined = false; join(); });
  socket.on("disconnect", function () {
    joined = false;
    root.dataset.joined = "";
    showError(T.disconnected);
  });
  socket.on("connect_error", function (err) { showError(err && err.message ? err.message : T.disconnected); });
  socket.on("joined", function (payload) {
    joined = true;
    root.dataset.joined = "1";
    waiting.splice(0).forEach(function (item) { emitNow(item[0], item[1], item[2]); });
    setStatus(payload.settings.status, payload.settings);
    payload.messages.forEach(showMessage);
    if (payload.poll) showPoll(payload.poll);
    var toggle = document.getElementById("chat-enabled");
    if (toggle) toggle.checked = payload.settings.chat_enabled;
    root.dispatchEvent(new CustomEvent("live:joined", { detail: payload }));
  });
  socket.on("chat", function (m) { upsert("chat", m); });
  socket.on("question", function (m) { upsert("questions", m); });
  socket.on("hand", addHand);
  socket.on("poll", function (p) { showPoll(Object.assign({ counts: [], total: 0 }, p)); });
  socket.on("poll_summary", showPoll);
  socket.on("message_deleted", function (d) {
    var node = document.getElementById("msg-" + d.id);
    if (node) node.querySelector(".live-text").textContent = T.deleted;
  });
  socket.on("settings", function (s) {
    setStatus(s.status, s);
    root.dispatchEvent(new CustomEvent("live:settings", { detail: s }));
  });
  socket.on("recording", function (data) {
    var link = document.getElementById("live-recording");
    if (!link) return;
    link.href = data.url;
    link.hidden = false;
    var wait = document.getElementById("live-recording-wait");
    if (wait) wait.hidden = true;
  });
  socket.on("error", function (e) { showError(e.message); });
  socket.on("kicked", function (e) { showError(e.message); socket.io.opts.reconnection = false; });

  function onSubmit(id, handler) {
    var form = document.getElementById(id);
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      handler(form);
    });
  }
  onSubmit("chat-form", function (form) {
    send("chat", { text: form.text.value });
    form.text.value = "";
  });
  onSubmit("question-form", function (form) {
    send("question", { text: form.text.value });
    form.text.value = "";
  });
  onSubmit("class-screen-form", function (form) {
    classScreen = { class_id: Number(form.class_id.value), headcount: Number(form.headcount.value) };
    join();
  });
  onSubmit("poll-form", function (form) {
    var choices = form.choices.value.split(/[,，]/).map(function (s) { return s.trim(); })
      .filter(Boolean);
    send("poll_start", { question: form.question.value, choices: choices });
    form.reset();
  });
  function click(id, handler) {
    var node = document.getElementById(id);
    if (node) node.addEventListener("click", handler);
  }
  click("raise-hand", function () { send("hand", {}); });
  click("go-live", function () { send("go_live", {}); });
  click("end-lecture", function () { send("end", {}); });
  click("poll-end", function () {
    if (currentPoll) send("poll_end", { poll_id: currentPoll.id });
  });
  var toggle = document.getElementById("chat-enabled");
  if (toggle) toggle.addEventListener("change", function () {
    send("moderate", { action: "chat", enabled: toggle.checked });
  });
  var slow = document.getElementById("slow-mode");
  if (slow) slow.addEventListener("change", function () {
    send("moderate", { action: "slow_mode", seconds: Number(slow.value) });
  });
  // the video scripts (studio.js, viewer.js) share this socket and its join queue
  window.liveRoom = { socket: socket, send: send, root: root, isHost: isHost, showError: showError };
  if (isHost && document.getElementById("watching")) {
    setInterval(function () {
      send("room", {}, function (reply) {
        if (reply && reply.ok) {
          document.getElementById("watching").textContent = String(reply.watching.people);
          var screens = document.getElementById("watching-screens");
          if (screens) screens.textContent = String(reply.watching.screens);
        }
      });
    }, 5000);
  }
})();
