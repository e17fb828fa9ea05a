// The large-text switch: remembered on this device, applied before the page is read.
(function () {
  var root = document.documentElement;
  if (localStorage.getItem("largeText") === "1") root.classList.add("large-text");
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("large-text-toggle");
    if (!toggle) return;
    toggle.setAttribute("aria-pressed", root.classList.contains("large-text") ? "true" : "false");
    toggle.addEventListener("click", function () {
      var on = root.classList.toggle("large-text");
      localStorage.setItem("largeText", on ? "1" : "0");
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
    });
  });
})();
