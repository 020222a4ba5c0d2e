// Upload a file in parts straight to storage (presigned URLs), resume after a drop, then follow
// the processing on the asset API until it is ready or failed. On the upload page the list of
// recent uploads follows too: a new upload appears at its top, and each one still processing
// turns ready (or failed) there without a reload; its entry opens the asset's page.
(function () {
  "use strict";
  var root = document.getElementById("media-upload");
  if (!root) return;
  var input = document.getElementById("media-file");
  var start = document.getElementById("media-start");
  var bar = document.getElementById("media-bar");
  var phase = document.getElementById("media-phase");
  var percent = document.getElementById("media-percent");
  var reasonBox = document.getElementById("media-reason");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var msg = function (name) { return root.dataset["msg" + name]; };
  var TYPES = { mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", webm: "video/webm",
    mkv: "video/x-matroska", ts: "video/mp2t", mp3: "audio/mpeg", m4a: "audio/mp4",
    aac: "audio/aac", wav: "audio/wav", ogg: "audio/ogg", oga: "audio/ogg", flac: "audio/flac",
    png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp",
    pdf: "application/pdf", epub: "application/epub+zip" };

  function show(kind, value) {
    var v = Math.max(0, Math.min(100, Math.round(value)));
    phase.textContent = msg(kind);
    percent.textContent = v + "%";
    bar.style.width = v + "%";
    bar.parentNode.setAttribute("aria-valuenow", v);
    root.dataset.state = kind.toLowerCase();
  }

  var list = document.getElementById("recent-uploads");
  var STATE_NAMES = { uploading: "Uploading", processing: "Processing", ready: "Ready", failed: "Failed" };

  function entry(asset) {
    if (!list || !asset || !asset.id) return;
    var li = list.querySelector('li[data-asset-id="' + String(asset.id).replace(/[^\w-]/g, "") + '"]');
    if (!li) {
      li = document.createElement("li");
      li.dataset.assetId = asset.id;
      var link = document.createElement("a");
      link.href = list.dataset.assetUrl.replace("ASSET", encodeURIComponent(asset.id));
      link.textContent = asset.filename || "";
      var chip = document.createElement("span");
      var why = document.createElement("span");
      why.className = "muted reason";
      li.append(link, " ", chip, " ", why);
      list.insertBefore(li, list.firstChild);
      var none = document.getElementById("no-uploads");
      if (none) none.hidden = true;
    }
    li.dataset.status = asset.status;
    var state = li.querySelector(".chip") || li.querySelector("span");
    state.className = "chip status-" + asset.status;
    state.textContent = STATE_NAMES[asset.status] ? msg(STATE_NAMES[asset.status]) : asset.status;
    li.querySelector(".reason").textContent = asset.reason || "";
  }

  // uploads left processing (by this page earlier, or another tab): asked now and then, less
  // often as time goes by, until they are ready or failed
  function watch(assetId, wait) {
    setTimeout(function () {
      api("GET", "/api/v1/media/assets/" + assetId).then(function (asset) {
        entry(asset);
        if (asset.status === "processing" || asset.status === "uploading") {
          watch(assetId, Math.min(wait * 1.5, 30000));
        }
      }).catch(function () { watch(assetId, Math.min(wait * 2, 60000)); });
    }, wait);
  }
  if (list) {
    Array.prototype.forEach.call(list.querySelectorAll('li[data-status="processing"]'), function (li) {
      watch(li.dataset.assetId, 3000);
    });
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || msg("Error"));
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function putPart(file, part, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", part.url);
      Object.keys(headers || {}).forEach(function (h) { xhr.setRequestHeader(h, headers[h]); });
      xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () { (xhr.status >= 200 && xhr.status < 300) ? resolve() : reject(new Error(xhr.status)); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.send(file.slice(part.offset, part.offset + part.size));
    });
  }

  function sendParts(file, assetId, plan, tries) {
    var done = file.size - plan.parts.reduce(function (n, p) { return n + p.size; }, 0);
    var queue = plan.parts.slice();
    function next() {
      if (!queue.length) return Promise.resolve();
      var part = queue.shift();
      return putPart(file, part, plan.headers, function (loaded) {
        show("Uploading", 100 * (done + loaded) / file.size);
      }).then(function () { done += part.size; return next(); });
    }
    return next().catch(function () {
      show("Resuming", 100 * done / file.size);
      // ask which parts arrived and get fresh URLs for the rest, for as long as the failure is
      // the network's or the storage's (it may be down for minutes); a refusal ends it
      return whenBack(tries, function () { return api("GET", root.dataset.createUrl + "/" + assetId); })
        .then(function (data) { return sendParts(file, assetId, data.upload, tries + 1); });
    });
  }

  // a failure that passes: the network (no status) or the server/storage unavailable (5xx)
  function passing(error) { return !error.status || error.status >= 500; }

  // call() again after a growing wait (1, 2, 4… up to 30 s) while it fails in passing; the page
  // says the storage is unavailable and that the upload resumes by itself
  function whenBack(tries, call) {
    var wait = Math.min(30000, 1000 * Math.pow(2, Math.min(tries, 5)));
    return new Promise(function (r) { setTimeout(r, wait); }).then(call).catch(function (error) {
      if (!passing(error)) throw error;
      show("Waiting", Number(bar.parentNode.getAttribute("aria-valuenow")) || 0);
      return whenBack(tries + 1, call);
    });
  }

  function follow(assetId) {
    return api("GET", "/api/v1/media/assets/" + assetId).then(function (asset) {
      entry(asset);
      if (asset.status === "ready") {
        show("Ready", 100);
        // pages that use the upload (a question's picture) take the asset from here
        var field = root.dataset.assetInput && document.getElementById(root.dataset.assetInput);
        if (field) field.value = asset.id;
        var note = root.dataset.reveal && document.getElementById(root.dataset.reveal);
        if (note) note.hidden = false;
        root.dispatchEvent(new CustomEvent("media:ready", { detail: asset }));
        return asset;
      }
      if (asset.status === "failed") { fail(asset.reason); return asset; }
      show("Processing", asset.progress);
      return new Promise(function (r) { setTimeout(r, 1500); }).then(function () { return follow(assetId); });
    });
  }

  function fail(text) {
    phase.textContent = msg("Failed");
    root.dataset.state = "failed";
    reasonBox.textContent = text || msg("Error");
    reasonBox.hidden = false;
    start.disabled = false;
  }

  input.addEventListener("change", function () { start.disabled = !input.files.length; });
  start.addEventListener("click", function () {
    var file = input.files[0];
    if (!file) return;
    reasonBox.hidden = true;
    document.getElementById("media-status").hidden = false;
    document.getElementById("media-name").textContent = file.name;
    if (file.size > Number(root.dataset.limitBytes)) { fail(msg("TooLarge")); return; }
    start.disabled = true;
    var ext = (file.name.split(".").pop() || "").toLowerCase();
    var type = file.type || TYPES[ext] || "application/octet-stream";
    show("Uploading", 0);
    api("POST", root.dataset.createUrl, { filename: file.name, size: file.size, content_type: type })
      .then(function (data) {
        root.dataset.assetId = data.asset_id;
        entry({ id: data.asset_id, filename: file.name, status: "uploading" });
        var complete = function () {
          return api("POST", root.dataset.createUrl + "/" + data.asset_id + "/complete");
        };
        return sendParts(file, data.asset_id, data.upload, 0).then(function () {
          return complete().catch(function (error) {
            if (!passing(error)) throw error;
            return whenBack(0, complete);
          });
        }).then(function (asset) {
          entry(asset);
          if (asset.status === "failed") { fail(asset.reason); return asset; }
          return follow(data.asset_id);
        });
      })
      .catch(function (error) { fail(error.message); });
  });
})();
