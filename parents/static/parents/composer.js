// The announcement composer's org tree: a search box that shows the units whose names match
// (and the branches above them, opened), so a prefecture admin finds one school among 1,675.
// Without this script the tree still works: counties open and close, every box can be ticked.
(function () {
  "use strict";

  var tree = document.querySelector(".org-tree");
  var box = tree && tree.querySelector(".org-filter");
  if (!box) return;
  var items = Array.prototype.slice.call(tree.querySelectorAll("li"));
  var empty = document.createElement("p");
  empty.className = "muted";
  empty.hidden = true;
  empty.textContent = tree.getAttribute("data-filter-empty");
  tree.appendChild(empty);

  function label(item) {
    var own = item.querySelector(":scope > label, :scope > details > summary > label");
    return own ? own.textContent.trim().toLowerCase() : "";
  }

  box.addEventListener("input", function () {
    var wanted = box.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (item) { item.hidden = Boolean(wanted); });
    items.forEach(function (item) {
      if (!wanted || label(item).indexOf(wanted) === -1) return;
      shown += 1;
      // the match, everything under it, and the branches above it
      item.hidden = false;
      item.querySelectorAll("li").forEach(function (below) { below.hidden = false; });
      for (var up = item.parentElement; up && up !== tree; up = up.parentElement) {
        if (up.tagName === "LI") up.hidden = false;
        if (up.tagName === "DETAILS") up.open = true;
      }
    });
    empty.hidden = !wanted || shown > 0;
  });
})();
