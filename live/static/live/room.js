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
  function setStatus(status) {
    document.getElementById("live-status").dataset.status = status;
    document.getElementById("live-status-text").textContent = T[status] || status;
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
      actions.appendChild(button(T.upvote, function () {
        socket.emit("upvote", { message_id: message.id });
      }));
    }
    if (isHost && message.author && !message.deleted) {
      actions.appendChild(button(T["delete"], function () {
        socket.emit("moderate", { action: "delete", message_id: message.id });
      }));
      actions.appendChild(button(T.mute, function () {
        socket.emit("moderate", { action: "mute", user_id: message.author.id });
      }));
      actions.appendChild(button(T.ban, function () {
        socket.emit("moderate", { action: "ban", user_id: message.author.id });
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
      if (summary.is_open && !isHost && !answered[summary.id]) {
        li.appendChild(button(T.vote, function () {
          socket.emit("poll_answer", { poll_id: summary.id, choice: i }, function (reply) {
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
  socket.on("connect", function () { showError(""); join(); });
  socket.on("disconnect", function () { showError(T.disconnected); });
  socket.on("connect_error", function (err) { showError(err && err.message ? err.message : T.disconnected); });
  socket.on("joined", function (payload) {
    setStatus(payload.settings.status);
    payload.messages.forEach(showMessage);
    if (payload.poll) showPoll(payload.poll);
    var toggle = document.getElementById("chat-enabled");
    if (toggle) toggle.checked = payload.settings.chat_enabled;
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
  socket.on("settings", function (s) { setStatus(s.status); });
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
    socket.emit("chat", { text: form.text.value });
    form.text.value = "";
  });
  onSubmit("question-form", function (form) {
    socket.emit("question", { text: form.text.value });
    form.text.value = "";
  });
  onSubmit("class-screen-form", function (form) {
    classScreen = { class_id: Number(form.class_id.value), headcount: Number(form.headcount.value) };
    join();
  });
  onSubmit("poll-form", function (form) {
    var choices = form.choices.value.split(/[,，]/).map(function (s) { return s.trim(); })
      .filter(Boolean);
    socket.emit("poll_start", { question: form.question.value, choices: choices });
    form.reset();
  });
  function click(id, handler) {
    var node = document.getElementById(id);
    if (node) node.addEventListener("click", handler);
  }
  click("raise-hand", function () { socket.emit("hand", {}); });
  click("go-live", function () { socket.emit("go_live", {}); });
  click("end-lecture", function () { socket.emit("end", {}); });
  click("poll-end", function () {
    if (currentPoll) socket.emit("poll_end", { poll_id: currentPoll.id });
  });
  var toggle = document.getElementById("chat-enabled");
  if (toggle) toggle.addEventListener("change", function () {
    socket.emit("moderate", { action: "chat", enabled: toggle.checked });
  });
  var slow = document.getElementById("slow-mode");
  if (slow) slow.addEventListener("change", function () {
    socket.emit("moderate", { action: "slow_mode", seconds: Number(slow.value) });
  });
  if (isHost) {
    setInterval(function () {
      socket.emit("room", {}, function (reply) {
        if (reply && reply.ok) {
          document.getElementById("watching").textContent = String(reply.watching.people);
        }
      });
    }, 5000);
  }
})();
