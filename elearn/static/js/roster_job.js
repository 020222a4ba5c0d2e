// The roster import's page while the job runs (elearn/templates/elearn/rosters/job.html).
(function () {
  "use strict";
  // Poll the job every second; when it ends, reload: the page then shows the counts or the errors.
  var box = document.getElementById("job");
  var labels = JSON.parse(box.dataset.labels);
  var bar = document.querySelector("#job-bar span");
  function show(job) {
    document.getElementById("job-status").textContent = labels[job.status] || job.status;
    document.getElementById("job-percent").textContent = job.progress + "%";
    bar.style.width = job.progress + "%";
    document.getElementById("job-bar").setAttribute("aria-valuenow", job.progress);
  }
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (job) {
          show(job);
          if (job.status === "done" || job.status === "failed") { window.location.reload(); return; }
        }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 1000);
})();
