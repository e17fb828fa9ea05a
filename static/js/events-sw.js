// The event scanner's service worker (served as /events/sw.js, so it may control the pages
// under /events/). It keeps the last copy of each badge scanner page and the files it uses,
// so that reopening the scanner at a door without signal still works; the scans themselves
// wait in the page's own queue. Every other page and request goes to the network untouched.
"use strict";
var CACHE = "events-scanner-v1";
var SCANNER = /^\/events\/\d+\/scanner$/;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("events-scanner-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// The scanner page asks for itself and its files to be kept as soon as the worker is ready:
// the first time it opened, no worker was there yet to see it load.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) return;
  var urls = data.urls.filter(function (u) {
    var url = new URL(u, self.location.origin);
    return url.origin === self.location.origin && (SCANNER.test(url.pathname) || url.pathname.indexOf("/static/") === 0);
  });
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      var url = new URL(u, self.location.origin);
      var key = SCANNER.test(url.pathname) ? url.pathname : url.href;
      return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(key, response);
      }).catch(function () {});
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = SCANNER.test(url.pathname);
  if (!page && url.pathname.indexOf("/static/") !== 0) return;
  // Network first: the newest page (and its fresh CSRF token) whenever there is a network.
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(page ? url.pathname : request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(page ? url.pathname : request).then(function (hit) { return hit || Response.error(); });
  }));
});
