// The campaign form's school picker: a prefecture has over a thousand schools, so typing part of
// a name shows only the matching schools (and every school of a matching county), opened.
(function () {
  "use strict";
  var input = document.getElementById("unit-filter");
  if (!input) return;
  var none = document.getElementById("unit-filter-none");
  var groups = Array.prototype.slice.call(document.querySelectorAll(".unit-group"));
  groups.forEach(function (group) { group.dataset.wasOpen = group.open ? "1" : ""; });
  input.addEventListener("input", function () {
    var needle = input.value.trim().toLowerCase();
    var shown = 0;
    groups.forEach(function (group) {
      var county = group.querySelector("summary").textContent.toLowerCase();
      var countyHit = needle !== "" && county.indexOf(needle) !== -1;
      var hits = 0;
      group.querySelectorAll(".unit-grid label").forEach(function (label) {
        var hit = needle === "" || countyHit || label.textContent.toLowerCase().indexOf(needle) !== -1;
        label.hidden = !hit;
        if (hit) hits += 1;
      });
      group.hidden = needle !== "" && !countyHit && hits === 0;
      group.open = needle === "" ? group.dataset.wasOpen === "1" : !group.hidden;
      if (!group.hidden) shown += 1;
    });
    none.hidden = shown > 0;
  });
})();
