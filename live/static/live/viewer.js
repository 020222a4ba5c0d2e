// The viewer's player: hls.js on the lecture's live HLS (signed URLs from the "stream" event),
// fetched once there is a stream to play (a room waiting for its lecture never loads it).
// On a weak connection (the bandwidth estimate stays below the video's bitrate, or playback keeps
// stalling) it falls back to the audio-only rendition and says so; "Try video again" goes back.
(function () {
  "use strict";
  // hls.js's live options; bench/bench_live_media.py plays the stream with this very literal
  // (it reads it from this file) to measure glass-to-glass latency as viewers see it
  var HLS_OPTIONS = {
    liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6,
    manifestLoadingMaxRetry: 30, levelLoadingMaxRetry: 30, fragLoadingMaxRetry: 8,
  };
  var room = window.liveRoom;
  var video = document.getElementById("live-video");
  var stage = document.getElementById("live-player");
  if (!room || !video || !stage) return;
  var T = JSON.parse(document.getElementById("live-video-strings").textContent);
  var quality = document.getElementById("live-quality");
  var retry = document.getElementById("live-retry-video");
  var unmute = document.getElementById("live-unmute");
  var waitText = document.getElementById("live-wait");
  var hls = null;
  var urls = null;
  var mode = "video";
  var slow = 0;
  var stalls = 0;
  var videoBandwidth = 0;
  var status = null;
  var errors = [];

  function showMode(which, reason) {
    mode = which;
    stage.dataset.mode = which;
    quality.hidden = false;
    quality.dataset.mode = which;
    quality.dataset.reason = reason || "";
    quality.textContent = which === "audio" ? T.audio_only : T.video;
    retry.hidden = which !== "audio";
  }
  function destroy() {
    if (hls) { hls.destroy(); hls = null; }
  }
  function play() {
    var attempt = video.play();
    if (attempt && attempt.catch) {
      attempt.catch(function () {
        // autoplay with sound refused: play muted and offer the sound
        video.muted = true;
        unmute.hidden = false;
        video.play().catch(function () {});
      });
    }
  }
  function start(which, reason) {
    if (!urls) return;
    if (!window.Hls && (window.MediaSource || window.ManagedMediaSource)) {
      window.elearn.loadScript(stage.dataset.hlsSrc).then(function () { start(which, reason); });
      return;
    }
    destroy();
    slow = 0;
    stalls = 0;
    showMode(which, reason);
    stage.dataset.state = "playing";
    var src = which === "audio" && urls.audio_url ? urls.audio_url : urls.master_url;
    if (window.Hls && Hls.isSupported()) {
      var options = {};
      for (var name in HLS_OPTIONS) options[name] = HLS_OPTIONS[name];
      // playlist URLs carry a token that expires: always use the newest one (see renew below)
      options.xhrSetup = function (xhr, url) { xhr.open("GET", withToken(url), true); };
      hls = new Hls(options);
      hls.on(Hls.Events.MANIFEST_PARSED, function (event, data) {
        if (which !== "video") return;
        // the master lists the audio-only rendition too: that one is ours to choose
        var best = -1;
        data.levels.forEach(function (level, i) {
          if (level.height && (best < 0 || level.height > data.levels[best].height)) best = i;
        });
        if (best >= 0) {
          videoBandwidth = data.levels[best].bitrate;
          hls.currentLevel = best;
        }
      });
      hls.on(Hls.Events.FRAG_LOADED, function () {
        if (mode !== "video" || !videoBandwidth) return;
        slow = hls.bandwidthEstimate < videoBandwidth * 1.2 ? slow + 1 : 0;
        if (slow >= 3) fallback("bandwidth");
      });
      hls.on(Hls.Events.ERROR, function (event, data) {
        errors.push((data.fatal ? "fatal:" : "") + data.details + ":" + (data.reason || (data.error && data.error.message) || ""));
        if (errors.length > 20) errors.shift();
        if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR && mode === "video") {
          if (++stalls >= 3) fallback("stalls");
          return;
        }
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else if (mode === "video") fallback("errors");
        else setTimeout(function () { start("audio", "errors"); }, 2000);
      });
      hls.loadSource(src);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;  // Safari plays HLS itself
    }
    play();
  }
  function tokenOf(url) {
    var match = /\/media\/live\/([^/]+)\//.exec(url || "");
    return match ? match[1] : null;
  }
  function withToken(url) {
    var token = urls && tokenOf(urls.master_url);
    return token && tokenOf(url) ? url.replace(/\/media\/live\/[^/]+\//, "/media/live/" + token + "/") : url;
  }
  function fallback(reason) {
    if (mode === "audio" || !urls || !urls.audio_url) return;
    start("audio", reason);
  }
  function request() {
    room.send("stream", {}, function (reply) {
      if (!reply || !reply.ok) return;
      if (!reply.available) {
        if (status === "live") { waitText.textContent = T.waiting; }
        return;
      }
      var first = !urls;
      urls = reply;
      if (first || !hls || video.ended) start(mode);
    });
  }
  room.root.addEventListener("live:joined", function (event) {
    status = event.detail.settings.status;
    if (status === "live") request();
  });
  room.root.addEventListener("live:settings", function (event) {
    status = event.detail.status;
    if (status === "live") request();
    if (status === "ended" && stage.dataset.state !== "playing") {
      // nothing was playing: no player promising a picture (room.js shows the end)
      destroy();
      video.hidden = true;
      waitText.hidden = true;
      stage.dataset.state = "ended";
    }
  });
  room.socket.on("stream", function () { request(); });
  // renew the playlist token well before it expires, without restarting the player
  setInterval(function () { if (urls) request(); }, 5 * 60 * 1000);
  retry.addEventListener("click", function () { start("video"); });
  unmute.addEventListener("click", function () { video.muted = false; unmute.hidden = true; });
  window.liveViewer = {
    get mode() { return mode; },
    get hls() { return hls; },
    fallback: fallback,
    errors: errors,
  };
})();
