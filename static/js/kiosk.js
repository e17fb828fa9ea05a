// The kiosk at the event's door: asks the server for a fresh QR code as each 30-second window
// begins, and says so plainly when the network is gone and the code on screen stops working.
// The server decides what is valid; this page only keeps the picture current.
(function () {
  "use strict";
  var box = document.querySelector("[data-kiosk]");
  if (!box || !window.fetch) return;

  var qr = box.querySelector("[data-qr]");
  var codeBox = box.querySelector("[data-code-box]");
  var code = box.querySelector("[data-code]");
  var closed = box.querySelector("[data-closed]");
  var offline = box.querySelector("[data-offline]");
  var instruction = box.querySelector("[data-instruction]");
  var countdown = box.querySelector("[data-countdown]");
  var countdownBar = countdown ? countdown.parentNode : null;
  var countIn = box.querySelector("[data-count-in]");
  var countOut = box.querySelector("[data-count-out]");
  var modeButtons = box.querySelectorAll("[data-mode-button]");
  var fullscreen = box.querySelector("[data-fullscreen]");

  var mode = box.dataset.mode || "in";
  // When the code on screen stops being accepted, by this device's own clock (the server told
  // us how many seconds it has left, so a wrong clock here does not matter).
  var validUntil = Date.now() + (parseInt(box.dataset.secondsLeft, 10) || 0) * 1000;
  var isOpen = !qr.hidden;
  var timer = null;

  function show(element, visible) { if (element) element.hidden = !visible; }

  function render(data) {
    mode = data.mode;
    modeButtons.forEach(function (b) { b.setAttribute("aria-current", b.dataset.modeButton === mode ? "true" : "false"); });
    instruction.textContent = instruction.dataset[mode === "out" ? "textOut" : "textIn"];
    countIn.textContent = data.checked_in;
    countOut.textContent = data.checked_out;
    isOpen = data.open;
    show(offline, false);
    qr.classList.remove("stale");
    if (data.open) {
      qr.innerHTML = data.svg;  // an SVG drawn by our server, no script in it
      code.textContent = data.code;
      validUntil = Date.now() + data.seconds_left * 1000;
    } else {
      closed.textContent = data.message;
    }
    show(qr, data.open);
    show(codeBox, data.open);
    show(countdownBar, data.open);
    show(closed, !data.open);
  }

  function schedule(seconds) {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, Math.max(1, seconds) * 1000);
  }

  function refresh() {
    var url = box.dataset.codeUrl + "?mode=" + encodeURIComponent(mode);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        var json = (r.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
        if (!r.ok || !json) throw new Error("not json");  // logged out, or a proxy's error page
        return r.json();
      })
      .then(function (data) {
        render(data);
        // The next window starts 30 s before this code expires; ask again just after it does.
        schedule(data.open ? data.seconds_left - 30 + 0.5 : 20);
      })
      .catch(function () {
        stale();
        schedule(3);
      });
  }

  function stale() {
    if (!isOpen) return;
    var dead = Date.now() >= validUntil;
    offline.textContent = offline.dataset[dead ? "textDead" : "textWaiting"];
    show(offline, true);
    qr.classList.toggle("stale", dead);
    show(codeBox, !dead);
  }

  function tick() {
    if (!isOpen || !countdown) return;
    var left = Math.max(0, validUntil - Date.now() - 30000);  // time until the next code
    countdown.style.width = Math.min(100, left / 300) + "%";
    if (Date.now() >= validUntil) stale();
  }

  modeButtons.forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      mode = button.dataset.modeButton;
      window.history.replaceState(null, "", "?mode=" + mode);
      refresh();
    });
  });

  if (fullscreen && document.documentElement.requestFullscreen) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", function () { document.documentElement.requestFullscreen().catch(function () {}); });
  }

  // Keep a tablet's screen on while the kiosk shows (where the browser allows it).
  function keepAwake() {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }
  document.addEventListener("visibilitychange", function () {
    keepAwake();
    if (document.visibilityState === "visible") refresh();
  });
  window.addEventListener("online", refresh);
  keepAwake();

  window.setInterval(tick, 1000);
  tick();
  schedule(isOpen ? (validUntil - Date.now()) / 1000 - 30 + 0.5 : 20);
})();
