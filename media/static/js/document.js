// The document viewer: page images behind short-lived signed URLs. A page left open longer than
// they last gets fresh URLs from the renew endpoint when an image fails to load.
(function () {
  "use strict";
  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var pending = null;
    function renew() {
      if (!pending) {
        pending = fetch(root.dataset.renewUrl, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (data) { root.dataset.renewUrl = data.renew_url; return data.pages; });
        pending.catch(function () {}).then(function () {
          setTimeout(function () { pending = null; }, 10000);
        });
      }
      return pending;
    }
    // a tap enlarges a page to twice the screen's width (scroll sideways to read); another fits it
    root.querySelectorAll(".doc-page").forEach(function (figure) {
      function toggle() {
        var zoomed = figure.classList.toggle("zoomed");
        figure.setAttribute("aria-expanded", zoomed ? "true" : "false");
      }
      figure.addEventListener("click", toggle);
      figure.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(); }
      });
    });
    root.querySelectorAll("img[data-page]").forEach(function (img) {
      img.addEventListener("error", function () {
        if (img.dataset.retried) return;
        img.dataset.retried = "1";
        renew().then(function (pages) {
          var url = pages[Number(img.dataset.page) - 1];
          if (url) img.src = url;
        }).catch(function () {});
      });
    });
  }
  document.querySelectorAll(".doc-viewer").forEach(setup);
})();
