// The lecturer's studio: camera + microphone (or screen share + microphone) recorded as WebM by
// MediaRecorder in ~1 s pieces, sent as binary Socket.IO "media_chunk" events while the lecture
// is live. The server feeds them to one ffmpeg that writes the live HLS the viewers play.
(function () {
  "use strict";
  var room = window.liveRoom;
  var preview = document.getElementById("studio-preview");
  if (!room || !preview) return;
  var T = JSON.parse(document.getElementById("live-video-strings").textContent);
  var stateChip = document.getElementById("studio-state");
  var sentLabel = document.getElementById("studio-sent");
  var sourceSelect = document.getElementById("studio-source");
  var stream = null;
  var recorder = null;
  var status = null;
  var sentSeconds = 0;
  var failures = 0;
  var chain = Promise.resolve();
  var silence = null;

  function setState(state, text) {
    stateChip.dataset.state = state;
    stateChip.textContent = text;
  }
  function silentTrack() {
    // a recording needs a sound track even when no microphone exists (screen share only)
    if (!silence) {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var dest = ctx.createMediaStreamDestination();
      var gain = ctx.createGain();
      gain.gain.value = 0;
      var osc = ctx.createOscillator();
      osc.connect(gain); gain.connect(dest); osc.start();
      silence = dest.stream.getAudioTracks()[0];
    }
    return silence;
  }
  function openSource() {
    var md = navigator.mediaDevices;
    var wanted = sourceSelect.value;
    var video = wanted === "screen"
      ? md.getDisplayMedia({ video: { frameRate: 25 }, audio: false })
      : md.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } }, audio: false });
    var mic = md.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } })
      .catch(function () { return null; });
    return Promise.all([video, mic]).then(function (parts) {
      var tracks = parts[0].getVideoTracks();
      var audio = parts[1] ? parts[1].getAudioTracks() : [];
      return new MediaStream(tracks.concat(audio.length ? audio : [silentTrack()]));
    });
  }
  function showPreview() {
    if (stream) stream.getTracks().forEach(function (t) { if (t !== silence) t.stop(); });
    return openSource().then(function (s) {
      stream = s;
      preview.srcObject = s;
      preview.play().catch(function () {});
      if (!recorder) setState("preview", T.preview);
      return s;
    }).catch(function (err) {
      setState("error", T.no_camera);
      room.showError(T.no_camera + (err && err.name ? " (" + err.name + ")" : ""));
      throw err;
    });
  }
  function mimeType() {
    var types = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];
    for (var i = 0; i < types.length; i++) {
      if (window.MediaRecorder && MediaRecorder.isTypeSupported(types[i])) return types[i];
    }
    return "";
  }
  function sendChunk(blob) {
    // in order, one after the other: the server's ffmpeg reads one continuous WebM stream
    chain = chain.then(function () { return blob.arrayBuffer(); }).then(function (buffer) {
      if (!recorder) return;
      room.socket.emit("media_chunk", buffer, function (reply) {
        if (reply && reply.ok) {
          failures = 0;
          sentSeconds += 1;
          sentLabel.textContent = sentSeconds + " s " + T.sent;
        } else if (++failures >= 3 && status === "live") {
          restart();  // the server lost the stream (a reconnect): start a new one
        }
      });
    });
  }
  function startRecording() {
    if (recorder || status !== "live") return;
    var ready = stream ? Promise.resolve(stream) : showPreview();
    ready.then(function (s) {
      var type = mimeType();
      room.send("media_start", { mime: type, audio: true }, function (reply) {
        if (!reply || !reply.ok || recorder) return;
        recorder = new MediaRecorder(s, { mimeType: type, videoBitsPerSecond: 1200000, audioBitsPerSecond: 64000 });
        recorder.ondataavailable = function (event) {
          if (event.data && event.data.size) sendChunk(event.data);
        };
        recorder.start(1000);
        failures = 0;
        setState("live", T.on_air);
      });
    });
  }
  function stopRecording() {
    if (!recorder) return;
    var r = recorder;
    recorder = null;
    if (r.state !== "inactive") r.stop();
  }
  function restart() {
    stopRecording();
    chain = Promise.resolve();
    startRecording();
  }

  room.root.addEventListener("live:joined", function (event) {
    status = event.detail.settings.status;
    // a re-join after a reconnect: the server knows this socket by its new id, so the recorder
    // starts over and the server resumes the same stream
    if (status === "live") { if (recorder) restart(); else startRecording(); }
    if (status === "ended") setState("ended", T.ended);
  });
  room.root.addEventListener("live:settings", function (event) {
    status = event.detail.status;
    if (status === "live") startRecording();
    if (status === "ended") { stopRecording(); setState("ended", T.ended); }
  });
  sourceSelect.addEventListener("change", function () {
    var live = !!recorder;
    showPreview().then(function () { if (live) restart(); });
  });
  showPreview().catch(function () {});
  window.liveStudio = {
    get recording() { return !!recorder; },
    get sentSeconds() { return sentSeconds; },
  };
})();
