// Attachments on the conversation page: a picture or a file chosen from the phone, or a voice
// message recorded in the browser (MediaRecorder: tap to start, tap again to send). Each goes
// through media's upload API as an attachment (POST /api/v1/media/uploads with purpose
// "attachment", the parts PUT to their signed URLs, then complete), waits until media has
// processed it (a voice message becomes AAC in MP4), and is then sent as a message with its
// asset_id. The message arrives on the page over /messages like any other (conversation.js).
(function () {
  "use strict";

  var bar = document.getElementById("attach-bar");
  if (!bar || !window.fetch) return;
  var strings = JSON.parse(document.getElementById("messages-strings").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var conversationId = Number(bar.getAttribute("data-conversation-id"));
  var limit = Number(bar.getAttribute("data-limit-bytes")) || 0;
  var input = document.getElementById("attach-file");
  var voice = document.getElementById("voice-button");
  var status = document.getElementById("attach-status");
  var busy = false;
  bar.hidden = false;

  function say(text, isError) {
    status.hidden = !text;
    status.textContent = text || "";
    status.className = "attach-status" + (isError ? " error" : "");
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.message || strings.failed);
        return data;
      });
    });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function sendParts(blob, plan) {
    var done = 0;
    var parts = plan.parts.slice();
    function next() {
      if (!parts.length) return Promise.resolve();
      var part = parts.shift();
      return fetch(part.url, {
        method: "PUT",
        credentials: "same-origin",
        headers: plan.headers || {},
        body: blob.slice(part.offset, part.offset + part.size),
      }).then(function (response) {
        if (!response.ok) throw new Error(strings.failed);
        done += part.size;
        say(strings.uploading.replace("{percent}", Math.round(100 * done / blob.size)));
        return next();
      });
    }
    return next();
  }

  // media processes the upload (probe, checks, transcode): ask until it is ready or refused
  function ready(assetId, tries) {
    return api("GET", "/api/v1/media/assets/" + encodeURIComponent(assetId)).then(function (asset) {
      if (asset.status === "ready") return asset;
      if (asset.status === "failed") throw new Error(asset.reason || strings.failed);
      say(strings.processing);
      return wait(Math.min(500 * (tries + 1), 3000)).then(function () { return ready(assetId, tries + 1); });
    });
  }

  function send(blob, filename, type) {
    if (busy) return;
    if (limit && blob.size > limit) { say(strings.tooLarge, true); return; }
    busy = true;
    bar.setAttribute("data-state", "uploading");
    say(strings.uploading.replace("{percent}", 0));
    api("POST", "/api/v1/media/uploads", {
      filename: filename, size: blob.size, content_type: type, purpose: "attachment",
    })
      .then(function (made) {
        return sendParts(blob, made.upload).then(function () {
          return api("POST", "/api/v1/media/uploads/" + encodeURIComponent(made.asset_id) + "/complete");
        }).then(function (asset) {
          if (asset.status === "failed") throw new Error(asset.reason || strings.failed);
          return ready(made.asset_id, 0);
        });
      })
      .then(function (asset) {
        return api("POST", "/api/v1/conversations/" + conversationId + "/messages", { asset_id: asset.id });
      })
      .then(function (sent) {
        say("");
        bar.setAttribute("data-state", "sent");
        bar.setAttribute("data-last-message", sent.id);
        if (sent.conversation_id !== conversationId) {
          // a reply to a class broadcast goes to its own thread
          window.location.href = "/messages/" + sent.conversation_id;
          return;
        }
        // the socket shows it; without one (it is down), the page shows it after a reload
        return wait(4000).then(function () {
          if (!document.getElementById("m" + sent.id)) window.location.reload();
        });
      })
      .catch(function (error) {
        bar.setAttribute("data-state", "failed");
        say(error.message || strings.failed, true);
      })
      .then(function () { busy = false; });
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (file) send(file, file.name, file.type || "application/octet-stream");
    input.value = "";
  });

  // --- voice: tap to record, tap again to send --------------------------------------------------
  var LONGEST = 120; // seconds; a voice message is a few sentences
  var TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus"];
  var recorder = null;
  var ticking = null;

  function chosenType() {
    if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) return "";
    for (var i = 0; i < TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported(TYPES[i])) return TYPES[i];
    }
    return "";
  }

  function extension(type) {
    if (type.indexOf("mp4") !== -1) return "m4a";
    if (type.indexOf("ogg") !== -1) return "ogg";
    return "webm";
  }

  function stopRecording() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }

  function startRecording() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      say(strings.noMicrophone, true);
      return;
    }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var type = chosenType();
      recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
      var chunks = [];
      var started = Date.now();
      recorder.addEventListener("dataavailable", function (event) {
        if (event.data && event.data.size) chunks.push(event.data);
      });
      recorder.addEventListener("stop", function () {
        clearInterval(ticking);
        stream.getTracks().forEach(function (track) { track.stop(); });
        voice.classList.remove("recording");
        voice.setAttribute("aria-pressed", "false");
        voice.querySelector(".label").textContent = voice.getAttribute("data-label");
        var recorded = recorder.mimeType || type || "audio/webm";
        recorder = null;
        var blob = new Blob(chunks, { type: recorded });
        if (!blob.size) { say(strings.failed, true); return; }
        send(blob, "voice-" + new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-") +
          "." + extension(recorded), recorded);
      });
      recorder.start(250);
      bar.setAttribute("data-state", "recording");
      voice.classList.add("recording");
      voice.setAttribute("aria-pressed", "true");
      voice.querySelector(".label").textContent = strings.stop;
      say(strings.recording.replace("{seconds}", 0));
      ticking = setInterval(function () {
        var seconds = Math.floor((Date.now() - started) / 1000);
        say(strings.recording.replace("{seconds}", seconds));
        if (seconds >= LONGEST) stopRecording();
      }, 500);
    }).catch(function () {
      say(strings.noMicrophone, true);
    });
  }

  voice.setAttribute("data-label", voice.querySelector(".label").textContent);
  voice.addEventListener("click", function () {
    if (recorder) { stopRecording(); return; }
    if (!busy) startRecording();
  });
})();
