// The account slip's Print button (the browser's own Print menu does the same).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
