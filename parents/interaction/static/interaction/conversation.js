// The conversation page in real time: messages arrive over the Socket.IO namespace /messages
// (parents/EVENTS.md) without a reload, are marked read as they are shown, and a recalled or
// released message changes in place. The page works without this script (the form posts).
(function () {
  "use strict";

  var list = document.querySelector("ol.bubbles[data-conversation-id]");
  if (!list || typeof io !== "function") return;
  var conversationId = Number(list.getAttribute("data-conversation-id"));
  var me = Number(list.getAttribute("data-me"));
  var canRead = list.getAttribute("data-member") === "1";
  var lastId = Number(list.getAttribute("data-last-id")) || 0;
  var direct = list.getAttribute("data-direct") === "1";
  var strings = JSON.parse(document.getElementById("messages-strings").textContent);

  function when(iso) {
    var moment = new Date(iso);
    return moment.toLocaleString(document.documentElement.lang || "zh-CN", {
      year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  // a picture as a thumbnail (opens full size), a voice message as an inline player, a file as
  // a link; the URLs are signed and short-lived (parents/EVENTS.md)
  function attachment(shown) {
    var box = document.createElement("div");
    box.className = "attachment attachment-" + shown.kind;
    if (shown.kind === "image") {
      var link = document.createElement("a");
      link.href = shown.url;
      link.target = "_blank";
      link.rel = "noopener";
      var image = document.createElement("img");
      image.className = "attachment-image";
      image.src = shown.url;
      image.alt = shown.name || "";
      link.appendChild(image);
      box.appendChild(link);
    } else if (shown.kind === "audio") {
      var audio = document.createElement("audio");
      audio.className = "attachment-audio";
      audio.controls = true;
      audio.preload = "metadata";
      audio.src = shown.url;
      audio.setAttribute("aria-label", strings.voice);
      box.appendChild(audio);
      if (shown.duration) {
        var length = document.createElement("span");
        length.className = "duration";
        length.textContent = Math.round(shown.duration) + "″";
        box.appendChild(length);
      }
    } else {
      var file = document.createElement("a");
      file.className = "attachment-file";
      file.href = shown.url;
      file.download = shown.name || "";
      file.textContent = shown.name || "";
      box.appendChild(file);
    }
    return box;
  }

  function bubble(message) {
    var item = document.createElement("li");
    var mine = message.sender_id === me;
    item.id = "m" + message.id;
    item.className = "bubble" + (mine ? " mine" : "") +
      (message.status !== "delivered" ? " " + message.status : "") +
      (message.automatic ? " automatic" : "");
    if (!mine) {
      var sender = document.createElement("span");
      sender.className = "sender";
      sender.textContent = message.sender_name;
      item.appendChild(sender);
    }
    var body = document.createElement("p");
    if (message.status === "recalled" && message.text === null) {
      body.className = "muted";
      body.textContent = strings.recalled.replace("{name}", message.sender_name);
    } else {
      body.className = "text";
      body.textContent = message.text;
    }
    if (body.textContent) item.appendChild(body);
    var shown = message.attachment;
    if (shown && shown.url && !(message.status === "recalled" && message.text === null)) {
      item.appendChild(attachment(shown));
    }
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = when(message.created_at) +
      (message.status === "held" ? " · " + strings.held : "") +
      (message.status === "recalled" && mine ? " · " + strings.recalledMine : "") +
      (message.status === "waiting" && message.deliver_at ?
        " · " + strings.waiting.replace("{time}", when(message.deliver_at)) : "") +
      (message.automatic ? " · " + strings.automatic : "");
    if (mine && message.status === "delivered") {
      var receipt = document.createElement("span");
      receipt.className = "receipt";
      receipt.setAttribute("data-receipt", String(message.id));
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(receipt);
    }
    item.appendChild(meta);
    return item;
  }

  var socket = io("/messages", { transports: ["websocket", "polling"] });

  function show(message) {
    if (message.conversation_id !== conversationId) return;
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var existing = document.getElementById("m" + message.id);
    var made = bubble(message);
    if (existing) {
      existing.replaceWith(made);
    } else {
      list.appendChild(made);
      made.scrollIntoView({ block: "end" });
    }
    if (message.id > lastId) {
      lastId = message.id;
      if (canRead && message.sender_id !== me && message.status === "delivered") {
        socket.emit("read", { message_id: message.id });
      }
    }
  }

  socket.on("message", function (data) { show(data.message); });
  // receipts from the other member of a one-to-one thread: my messages up to the id
  function receipt(kind) {
    return function (data) {
      if (!direct || data.conversation_id !== conversationId || data.user_id === me) return;
      list.querySelectorAll(".receipt[data-receipt]").forEach(function (span) {
        var id = Number(span.getAttribute("data-receipt"));
        if (id > data.message_id) return;
        if (kind === "read" || span.textContent !== strings.read) span.textContent = strings[kind];
      });
    };
  }
  socket.on("read", receipt("read"));
  socket.on("delivered", receipt("delivered"));
  // after the queue was away (elearn/realtime.py), fetch what this page missed
  socket.on("resync", function () {
    fetch("/api/v1/conversations/" + conversationId + "/messages?after=" + lastId, {
      credentials: "same-origin",
    })
      .then(function (response) { return response.ok ? response.json() : { items: [] }; })
      .then(function (body) { body.items.forEach(show); });
  });
})();
