// The HLS player: hls.js where needed, a quality menu (renditions + audio only), resume from a
// start position, and fresh signed URLs when the old ones expire. Nothing is fetched before play:
// the <video> has preload="none" and no source, and pressing play (the button, a tap on the
// picture, or media.play()) loads hls.js (window.elearn.loadScript, page.js), then the playlist.
(function () {
  "use strict";
  // browsers with Media Source play HLS through hls.js; Safari on older iPhones plays it itself
  function needsHls(media) {
    return !!(window.MediaSource || window.ManagedMediaSource) ||
      !media.canPlayType("application/vnd.apple.mpegurl");
  }

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var media = root.querySelector("video, audio");
    var select = root.querySelector("select");
    var button = root.querySelector(".media-start");
    if (!media || !root.dataset.playlistUrl) return;
    var urls = { master: root.dataset.playlistUrl, audio: root.dataset.audioUrl, renew: root.dataset.renewUrl };
    var mode = "auto";
    var hls = null;
    var renewals = 0;

    function option(value, label) {
      var o = document.createElement("option");
      o.value = value; o.textContent = label;
      select.appendChild(o);
    }

    function seekOnce(position) {
      // resume where the viewer was: after a source switch or a renewal, and at the start
      media.addEventListener("loadedmetadata", function once() {
        media.removeEventListener("loadedmetadata", once);
        if (position > 0 && Math.abs(media.currentTime - position) > 0.5) media.currentTime = position;
      });
    }

    function load(url, position) {
      if (hls) { hls.destroy(); hls = null; }
      seekOnce(position);
      if (window.Hls && window.Hls.isSupported()) {
        hls = new window.Hls({ startPosition: position, capLevelToPlayerSize: true });
        hls.on(window.Hls.Events.MANIFEST_PARSED, function (_e, data) {
          if (url !== urls.master || select.dataset.filled) return;
          select.dataset.filled = "1";
          data.levels.forEach(function (level, index) {
            option(String(index), level.height ? level.height + "p" : Math.round(level.bitrate / 1000) + " kb/s");
          });
          if (urls.audio) option("audio", root.dataset.labelAudio);
        });
        hls.on(window.Hls.Events.ERROR, function (_e, data) {
          if (!data.fatal) return;
          if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR && renewals < 5) { renew(); return; }
          if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
          showError();
        });
        hls.loadSource(url);
        hls.attachMedia(media);
      } else if (media.canPlayType("application/vnd.apple.mpegurl")) {
        media.src = url;
        if (urls.audio && !select.dataset.filled) { select.dataset.filled = "1"; option("audio", root.dataset.labelAudio); }
      } else {
        showError();
      }
    }

    function renew() {
      renewals += 1;
      var position = media.currentTime || Number(root.dataset.start) || 0;
      var playing = !media.paused;
      fetch(urls.renew, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          urls = { master: data.playlist_url, audio: data.audio_url, renew: data.renew_url };
          load(mode === "audio" ? urls.audio : urls.master, position);
          if (playing) media.play().catch(function () {});
        })
        .catch(showError);
    }

    function showError() {
      var p = document.createElement("p");
      p.className = "media-error";
      p.textContent = root.dataset.msgError;
      root.appendChild(p);
    }

    select.addEventListener("change", function () {
      var value = select.value;
      var position = media.currentTime;
      var playing = !media.paused;
      if (value === "audio") {
        mode = "audio";
        load(urls.audio, position);
      } else {
        if (mode === "audio") { mode = "auto"; load(urls.master, position); }
        if (hls) { hls.currentLevel = value === "auto" ? -1 : Number(value); }
      }
      if (playing) media.play().catch(function () {});
    });

    // signed URLs last minutes: when one has run out, hls.js reports a network error and
    // renew() reloads at the current position with fresh URLs
    media.addEventListener("playing", function () { renewals = 0; });

    var started = false;
    function start() {
      if (started) return;
      started = true;
      root.dataset.state = "loading";
      if (button) button.hidden = true;
      media.controls = true;
      var ready = needsHls(media) ? window.elearn.loadScript(root.dataset.hlsSrc) : Promise.resolve();
      ready.then(function () {
        load(urls.master, Number(root.dataset.start) || 0);
        // play once load()'s seek to the resume position is done, so the first "play" the lesson
        // reports is there
        media.addEventListener("loadedmetadata", function once() {
          media.removeEventListener("loadedmetadata", once);
          root.dataset.state = "playing";
          media.play().catch(function () {});
        });
      }).catch(showError);
    }
    if (button) button.addEventListener("click", start);
    media.addEventListener("click", start);
    // media.play() from elsewhere, or the browser's own controls
    media.addEventListener("play", start);
  }
  function all() { document.querySelectorAll(".media-player").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
