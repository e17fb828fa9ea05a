// The site's service worker (served as /sw.js, so it may control every page). It keeps the
// shell (styles, script, icons) and one offline page; pages themselves always come from the
// network, because they hold personal data and fresh CSRF tokens. When the network is gone, a
// page that cannot load shows the offline page instead of the browser's error.
// The event scanner has its own worker at /events/sw.js (a narrower scope wins for its pages),
// with its own cache and its own offline queue of scans: this one leaves the scanner alone.
"use strict";
var CACHE = "site-shell-v1";
var OFFLINE = "/offline";
var SCANNER = /^\/events\/(\d+\/scanner|sw\.js)$/;
var SHELL = [
  OFFLINE,
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/icons/icon-192.png",
  "/favicon.ico"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(SHELL.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.ok) return cache.put(url, response);
      });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("site-shell-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SCANNER.test(url.pathname) || url.pathname.indexOf("/api/") === 0) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(OFFLINE).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  if (SHELL.indexOf(url.pathname) === -1) return;
  // The shell: the network's newest copy when there is one, the kept copy when there is not.
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
  }));
});
