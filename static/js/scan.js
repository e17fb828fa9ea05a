// The counter scanner: reads a voucher QR with the phone camera and submits it. It uses the
// browser's BarcodeDetector where there is one and the vendored jsQR decoder (loaded only when
// the camera starts) where there is not. Typing the code always works too.
(function () {
  var box = document.querySelector(".scanner");
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  box.hidden = false;
  var start = box.querySelector("[data-scanner-start]");
  var video = box.querySelector("[data-scanner-video]");
  var status = box.querySelector("[data-scanner-status]");
  var input = document.getElementById(box.dataset.target);
  var canvas = document.createElement("canvas");
  var stream = null;
  var detect = null;

  function useBarcodeDetector() {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return function () {
      return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    };
  }

  function useJsQR() {
    return function () {
      if (!window.jsQR || !video.videoWidth) return Promise.resolve(null);
      var scale = Math.min(1, 480 / video.videoWidth);  // small frames keep the main thread quick
      var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
      canvas.width = w; canvas.height = h;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, w, h);
      var found = window.jsQR(context.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
      return Promise.resolve(found ? found.data : null);
    };
  }

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = box.dataset.decoder;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }

  function tick() {
    if (!stream) return;
    detect().then(function (text) {
      if (text && input) {
        input.value = text;
        stop();
        input.form.submit();
        return;
      }
      window.setTimeout(tick, 150);
    }).catch(function () { window.setTimeout(tick, 300); });
  }

  start.addEventListener("click", function () {
    var ready = "BarcodeDetector" in window
      ? Promise.resolve(useBarcodeDetector())
      : loadJsQR().then(useJsQR);
    ready.then(function (fn) {
      detect = fn;
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      video.play();
      status.textContent = "";
      tick();
    }).catch(function () {
      status.textContent = start.dataset.denied || "";
    });
  });
})();
