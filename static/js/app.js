// The large-text switch: remembered on this device, applied before the page is read.
(function () {
  var root = document.documentElement;
  root.classList.add("js"); // the phone header hides its menu behind the button only when the button works
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

// The phone header's menu button: shows and hides the navigation (Escape closes it again).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector(".menu-button");
  var menu = document.getElementById("site-menu");
  if (!button || !menu) return;
  function set(open) {
    menu.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
  });
});

// The site's service worker (installable site, offline page). Where it cannot run (plain HTTP
// away from localhost, old browsers) the site works as before.
(function () {
  var script = document.currentScript;
  var url = script && script.dataset.workerUrl;
  if (!url || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, { scope: "/" }).catch(function () {});
  });
})();

// A receipt's "Print" button (acting on behalf: the slip a resident without a phone keeps).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) window.print();
});
