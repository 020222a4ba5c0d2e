// Lesson progress: report the playback position every few seconds; the server decides what counts.
(function () {
  "use strict";
  var root = document.getElementById("lesson");
  if (!root || !root.dataset.heartbeatUrl) { return; }
  var url = root.dataset.heartbeatUrl;
  var every = (parseFloat(root.dataset.interval) || 5) * 1000;
  var resume = parseFloat(root.dataset.resume) || 0;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var text = document.getElementById("progress-text");
  var bar = document.querySelector("#progress-bar .progress span");
  var labels = document.getElementById("progress-template").dataset;
  var done = false;
  // the next lesson (the server chose it) is offered once this one ends or is completed
  var next = document.getElementById("next-lesson");
  function offerNext() { if (next) { next.hidden = false; } }

  function show(result) {
    if (result.completed) {
      done = true;
      offerNext();
      text.textContent = result.course_completed ? labels.courseCompleted : labels.completed;
      if (bar) { bar.style.width = "100%"; }
      return;
    }
    var total = result.duration_seconds || 1;
    text.textContent = labels.watched.replace("{n}", Math.floor(result.watched_seconds))
      .replace("{total}", Math.floor(total));
    if (bar) { bar.style.width = Math.min(100, Math.round(100 * result.watched_seconds / total)) + "%"; }
  }

  function send(position, playing) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({position: position, playing: playing})
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (result) { if (result) { show(result); } })
      .catch(function () { /* offline for a moment: the next heartbeat catches up */ });
  }

  if (root.dataset.mode === "media") {
    // media's player partial resumes from data-start (our last_position); we only listen
    var media = root.querySelector("video, audio");
    if (!media) { return; }
    media.addEventListener("play", function () { send(media.currentTime, true); });
    media.addEventListener("pause", function () { send(media.currentTime, false); });
    media.addEventListener("ended", function () { send(media.currentTime, false); offerNext(); });
    setInterval(function () {
      if (!media.paused && !media.ended) { send(media.currentTime, true); }
    }, every);
    window.courseLessonMedia = media;
  } else {
    // Reading: the "position" is the time spent on the page while it is visible.
    var reading = resume;
    var last = Date.now();
    send(reading, true);
    setInterval(function () {
      var now = Date.now();
      if (document.visibilityState === "visible") { reading += (now - last) / 1000; }
      last = now;
      if (!done) { send(reading, document.visibilityState === "visible"); }
    }, every);
  }
})();
