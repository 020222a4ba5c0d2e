// A video appointment's call: one RTCPeerConnection between its two parties, its signalling
// (offer, answer, ICE candidates, hang-up) over the Socket.IO namespace /messages
// (parents/EVENTS.md). The staff member calls; the guardian answers. Each side says "ready" when
// its page opens: the staff member (re)calls whenever the guardian is ready, and the guardian
// answers a staff member's "ready" with its own, so whoever opens the page second, the call starts.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("call-config").textContent);
  var strings = JSON.parse(document.getElementById("call-strings").textContent);
  var remoteVideo = document.getElementById("remote-video");
  var localVideo = document.getElementById("local-video");
  var statusLine = document.getElementById("call-status");
  var id = config.appointmentId;
  var caller = config.caller;
  var pc = null;
  var pending = [];
  var stream = null;
  var ended = false;
  var socket = null;

  function status(text, kind) {
    statusLine.textContent = text;
    statusLine.className = "call-status" + (kind ? " " + kind : "");
  }

  function send(event, body) {
    var data = Object.assign({ appointment_id: id }, body || {});
    socket.emit(event, data, function (answer) {
      if (answer && !answer.ok) status(answer.error || strings.refused, "error");
    });
  }

  function close() {
    if (pc) {
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
    }
    pc = null;
    pending = [];
  }

  function fresh() {
    close();
    pc = new RTCPeerConnection({ iceServers: config.iceServers || [] });
    stream.getTracks().forEach(function (track) { pc.addTrack(track, stream); });
    pc.ontrack = function (event) {
      if (remoteVideo.srcObject !== event.streams[0]) remoteVideo.srcObject = event.streams[0];
    };
    pc.onicecandidate = function (event) {
      send("call.ice", { candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    pc.onconnectionstatechange = function () {
      if (!pc) return;
      if (pc.connectionState === "connected") status(strings.connected, "connected");
      else if (pc.connectionState === "failed") status(strings.waiting);
    };
    window.appointmentCall = pc; // for a browser test's getStats
    return pc;
  }

  function flush() {
    var queued = pending;
    pending = [];
    queued.forEach(function (candidate) { pc.addIceCandidate(candidate).catch(function () {}); });
  }

  function call() {
    var connection = fresh();
    status(strings.connecting);
    connection.createOffer().then(function (offer) {
      return connection.setLocalDescription(offer).then(function () {
        send("call.offer", { description: { type: offer.type, sdp: offer.sdp } });
      });
    });
  }

  function onOffer(data) {
    if (caller || data.appointment_id !== id) return;
    var connection = fresh();
    status(strings.connecting);
    connection.setRemoteDescription(data.description).then(function () {
      flush();
      return connection.createAnswer();
    }).then(function (answer) {
      return connection.setLocalDescription(answer).then(function () {
        send("call.answer", { description: { type: answer.type, sdp: answer.sdp } });
      });
    });
  }

  function onAnswer(data) {
    if (!caller || !pc || data.appointment_id !== id) return;
    pc.setRemoteDescription(data.description).then(flush);
  }

  function onIce(data) {
    if (data.appointment_id !== id || !data.candidate) return;
    if (pc && pc.remoteDescription) pc.addIceCandidate(data.candidate).catch(function () {});
    else pending.push(data.candidate);
  }

  function onReady(data) {
    if (data.appointment_id !== id || ended) return;
    if (caller) call();
    else { close(); send("call.ready"); }
  }

  function onHangup(data) {
    if (data.appointment_id !== id) return;
    close();
    remoteVideo.srcObject = null;
    status(strings.ended);
  }

  function start() {
    socket = io("/messages", { transports: ["websocket", "polling"] });
    socket.on("call.ready", onReady);
    socket.on("call.offer", onOffer);
    socket.on("call.answer", onAnswer);
    socket.on("call.ice", onIce);
    socket.on("call.hangup", onHangup);
    socket.on("connect", function () { if (!ended) send("call.ready"); });
  }

  document.getElementById("hangup").addEventListener("click", function () {
    ended = true;
    if (socket) send("call.hangup");
    close();
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    remoteVideo.srcObject = null;
    status(strings.hungUp);
  });

  if (!navigator.mediaDevices || typeof io !== "function") {
    status(strings.noCamera, "error");
    return;
  }
  navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } })
    .then(function (media) {
      stream = media;
      localVideo.srcObject = media;
      start();
    })
    .catch(function () { status(strings.noCamera, "error"); });
})();
