// The counter scanner: reads a voucher QR with the phone camera where the browser can
// (BarcodeDetector), fills the code box and submits. Typing the code always works too.
(function () {
  var box = document.querySelector(".scanner");
  if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  box.hidden = false;
  var start = box.querySelector("[data-scanner-start]");
  var video = box.querySelector("[data-scanner-video]");
  var status = box.querySelector("[data-scanner-status]");
  var input = document.getElementById(box.dataset.target);
  var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  var stream = null;

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }

  function tick() {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      if (codes.length && input) {
        input.value = codes[0].rawValue;
        stop();
        input.form.submit();
        return;
      }
      window.requestAnimationFrame(tick);
    }).catch(function () { window.requestAnimationFrame(tick); });
  }

  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
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
