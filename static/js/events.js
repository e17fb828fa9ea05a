// Small helpers for the event pages: the print buttons of the poster and the certificate.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-print]") : null;
  if (button) window.print();
});
