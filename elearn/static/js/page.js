// What every page does, from a file (the Content-Security-Policy allows no inline script):
// the menu strip, forms that ask first (data-confirm) or say they are busy (data-busy), bars sized
// from data-width/-height/-left, and scripts loaded when first needed (window.elearn.loadScript).
(function () {
  "use strict";

  // phones: the menu is a strip that scrolls sideways; bring the current page's entry into view
  var menu = document.querySelector(".topbar .menu");
  var current = menu && menu.querySelector("[aria-current=page]");
  if (current && menu.scrollWidth > menu.clientWidth) {
    menu.scrollLeft = current.offsetLeft - menu.offsetLeft - (menu.clientWidth - current.offsetWidth) / 2;
  }

  // bars: their size is data (a percentage), not a style attribute
  var SIZES = { width: "width", height: "height", left: "left" };
  function sizeBars(root) {
    Object.keys(SIZES).forEach(function (name) {
      root.querySelectorAll("[data-" + name + "]").forEach(function (element) {
        var value = parseFloat(element.getAttribute("data-" + name));
        if (isNaN(value)) return;
        element.style[SIZES[name]] = Math.max(0, Math.min(100, value)) + "%";
      });
    });
  }
  sizeBars(document);

  // a form marked data-confirm="…" asks before it is sent (deleting, closing, removing)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // a form marked data-busy="…" says so on its button while the next page is on its way (an exam's
  // start when a whole school starts at once), and is not sent a second time
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute("data-busy")) return;
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    form.setAttribute("aria-busy", "true");
    setTimeout(function () {  // after the form's data is taken: a disabled button would drop out
      form.querySelectorAll("button:not([type=button])").forEach(function (button) {
        button.setAttribute("data-label", button.textContent);
        button.textContent = form.getAttribute("data-busy");
        button.disabled = true;
      });
    }, 0);
  });
  // back to a page the browser kept: its forms can be sent again
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[aria-busy=true]").forEach(function (form) {
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[data-label]").forEach(function (button) {
        button.textContent = button.getAttribute("data-label");
        button.disabled = false;
      });
    });
  });

  // a script fetched only when a page needs it (hls.js when a video is played): once per page
  var loading = {};
  function loadScript(src) {
    if (!loading[src]) {
      loading[src] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = function () { delete loading[src]; reject(new Error("cannot load " + src)); };
        document.head.appendChild(script);
      });
    }
    return loading[src];
  }

  window.elearn = { loadScript: loadScript, sizeBars: sizeBars };
})();
