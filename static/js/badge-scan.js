// The event staff's badge scanner. Reads volunteers' badge QR codes with the phone camera
// (the browser's BarcodeDetector where there is one, the vendored jsQR decoder where there is
// not), or takes the typed code, and records check-ins and check-outs.
//
// Poor signal at the door is the normal case, so every scan goes into a queue kept in
// localStorage first, with a random nonce and the time it was scanned, and is then sent. What
// the network loses is sent again later; the server records each nonce once and keeps the
// scan's own time. The queue survives closing the page and logging in again.
(function () {
  "use strict";
  var form = document.querySelector("[data-scan-form]");
  if (!form || !window.fetch || !window.localStorage || !window.JSON) return;

  var codeInput = form.querySelector("input[name=code]");
  var csrf = form.querySelector("input[name=csrf_token]");
  var net = document.querySelector("[data-scan-net]");
  var log = document.querySelector("[data-scan-log]");
  var camera = document.querySelector("[data-badge-scanner]");
  var QUEUE_KEY = "events.scanQueue." + form.dataset.eventId;
  var BATCH = 50;
  var sending = false;
  var blocked = false;  // logged out or the page is too old: wait for a reload
  var unreachable = false;  // the last send failed for want of a network
  var lastCode = "", lastAt = 0;

  // ---- the queue -------------------------------------------------------------------------

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (e) { return []; }
  }
  function save(queue) {
    try { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); } catch (e) { /* storage full: still in memory */ }
  }
  function nonce() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function currentAction() {
    var checked = form.querySelector("input[name=action]:checked");
    return checked ? checked.value : "in";
  }

  // ---- what staff see --------------------------------------------------------------------

  function text(name, count) {
    return (net.dataset[name] || "").replace("{n}", count);
  }
  function status(kind, message) {
    net.hidden = false;
    net.className = "scan-net" + (kind ? " " + kind : "");
    net.textContent = message;
  }
  function showQueueState() {
    var waiting = load().length;
    if (blocked) status("problem", text("textLogin", waiting));
    // Offline with nothing waiting is still offline: a page reopened from the phone's copy
    // must not claim a connection it does not have.
    else if (!navigator.onLine || unreachable) status("offline", text("textOffline", waiting));
    else if (waiting) status("offline", text("textSending", waiting));
    else status("", text("textOnline", 0));
  }
  function row(scan) {
    var item = log.querySelector('[data-nonce="' + scan.nonce + '"]');
    if (!item) {
      item = document.createElement("li");
      item.dataset.nonce = scan.nonce;
      log.insertBefore(item, log.firstChild);
      while (log.children.length > 30) log.removeChild(log.lastChild);
    }
    return item;
  }
  function clock(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function showPending(scan) {
    var item = row(scan);
    item.className = "queued";
    item.textContent = scan.code;
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = clock(scan.scanned_at) + " · " + net.dataset.textQueued;
    item.appendChild(when);
  }
  function showResult(scan, result) {
    var item = row(scan);
    item.className = result.outcome;
    item.textContent = result.message;
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = clock(scan.scanned_at) + " · " + scan.code;
    item.appendChild(when);
    if (navigator.vibrate) navigator.vibrate(result.outcome === "refused" ? [80, 60, 80] : 60);
  }

  // ---- sending ---------------------------------------------------------------------------

  function flush() {
    if (sending || blocked) return;
    var queue = load();
    if (!queue.length) { showQueueState(); return; }
    sending = true;
    showQueueState();
    var batch = queue.slice(0, BATCH);
    fetch(form.dataset.scansUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf.value },
      body: JSON.stringify({ sent_at: Date.now(), scans: batch })
    }).then(function (r) {
      var json = (r.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
      if (!json) {
        // A login page or the "page too old" error: the scans stay here until staff log in again.
        blocked = true;
        return null;
      }
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (answer) {
      sending = false;
      unreachable = false;
      if (!answer) { showQueueState(); return; }
      if (!answer.ok || !answer.data.results) {
        status("problem", answer.data.error || "");
        return;
      }
      var byNonce = {};
      answer.data.results.forEach(function (r) { if (r.nonce) byNonce[r.nonce] = r; });
      batch.forEach(function (scan) { if (byNonce[scan.nonce]) showResult(scan, byNonce[scan.nonce]); });
      // Drop what was answered; keep whatever was scanned while this batch was on its way.
      save(load().filter(function (scan) { return !byNonce[scan.nonce]; }));
      showQueueState();
      if (load().length) window.setTimeout(flush, 200);
    }).catch(function () {
      sending = false;  // no network: try again later
      unreachable = true;
      showQueueState();
    });
  }

  function record(raw) {
    var code = (raw || "").trim();
    if (!code) return;
    var action = currentAction();
    // The camera sees the same badge in many frames in a row; count it once.
    if (code === lastCode && Date.now() - lastAt < 5000) return;
    lastCode = code;
    lastAt = Date.now();
    var scan = { nonce: nonce(), code: code, action: action, scanned_at: Date.now() };
    var queue = load();
    queue.push(scan);
    save(queue);
    showPending(scan);
    flush();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    lastCode = "";  // typing the same code again on purpose is allowed
    record(codeInput.value);
    codeInput.value = "";
    codeInput.focus();
  });
  form.querySelectorAll("input[name=action]").forEach(function (radio) {
    radio.addEventListener("change", function () { lastCode = ""; });
  });

  window.addEventListener("online", function () { blocked = false; unreachable = false; flush(); });
  window.addEventListener("offline", showQueueState);
  window.setInterval(flush, 15000);
  showQueueState();
  load().forEach(showPending);
  flush();

  // Keep this page for when the network is gone, so a reload at the door still opens it.
  if ("serviceWorker" in navigator && form.dataset.workerUrl) {
    navigator.serviceWorker.register(form.dataset.workerUrl, { scope: form.dataset.workerUrl.replace(/[^/]*$/, "") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        var urls = [window.location.pathname];
        document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (el) {
          urls.push(el.href || el.src);
        });
        var decoder = document.querySelector("[data-badge-scanner]");
        if (decoder && decoder.dataset.decoderUrl && !("BarcodeDetector" in window)) urls.push(decoder.dataset.decoderUrl);
        if (registration.active) registration.active.postMessage({ type: "keep", urls: urls });
      })
      .catch(function () {});
  }

  // ---- the camera ------------------------------------------------------------------------

  if (!camera || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  camera.hidden = false;
  var start = camera.querySelector("[data-camera-start]");
  var stopButton = camera.querySelector("[data-camera-stop]");
  var video = camera.querySelector("[data-camera-video]");
  var cameraStatus = camera.querySelector("[data-camera-status]");
  var detector = null;
  var canvas = null, context = null;
  var stream = null;
  var lastDecode = 0;

  if ("BarcodeDetector" in window) {
    try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
  }
  if (!detector) {
    // Load the decoder now, while the network is still there.
    var script = document.createElement("script");
    script.src = camera.dataset.decoderUrl;
    document.head.appendChild(script);
  }

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    stopButton.hidden = true;
    start.hidden = false;
  }

  function decodeFrame() {
    if (detector) {
      return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    }
    if (!window.jsQR || !video.videoWidth) return Promise.resolve(null);
    // jsQR runs on the main thread: a frame of at most 480 pixels across keeps it quick.
    var scale = Math.min(1, 480 / video.videoWidth);
    var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    if (!canvas) { canvas = document.createElement("canvas"); context = canvas.getContext("2d", { willReadFrequently: true }); }
    canvas.width = w; canvas.height = h;
    context.drawImage(video, 0, 0, w, h);
    var found = window.jsQR(context.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    return Promise.resolve(found ? found.data : null);
  }

  function tick() {
    if (!stream) return;
    if (Date.now() - lastDecode < 150) { window.requestAnimationFrame(tick); return; }
    lastDecode = Date.now();
    decodeFrame().then(function (value) {
      if (value) record(value);
      window.requestAnimationFrame(tick);
    }).catch(function () { window.requestAnimationFrame(tick); });
  }

  start.addEventListener("click", function () {
    cameraStatus.textContent = camera.dataset.textStarting;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      start.hidden = true;
      stopButton.hidden = false;
      video.play();
      cameraStatus.textContent = camera.dataset.textScanning;
      tick();
    }).catch(function () {
      cameraStatus.textContent = camera.dataset.textDenied;
    });
  });
  stopButton.addEventListener("click", stop);
  document.addEventListener("visibilitychange", function () { if (document.hidden) stop(); });
})();
