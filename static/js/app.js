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

// Forms marked confirm-first ask before they POST (cancelling a voucher, say).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.classList && form.classList.contains("confirm-first") && !window.confirm(form.dataset.confirm || "?")) {
    event.preventDefault();
  }
});

// A page showing something that another person will change (a voucher the shop is about to
// scan) asks every few seconds and reloads when it has changed.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-poll-url]");
  if (!box || !window.fetch) return;
  var timer = window.setInterval(function () {
    fetch(box.dataset.pollUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.status !== box.dataset.pollStatus) {
          window.clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(function () {});
  }, 4000);
});
