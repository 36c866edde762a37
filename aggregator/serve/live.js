// The served board refreshes itself: every few seconds it asks for the same page again (with the
// ETag it has) and, when the page changed, swaps in the new board. Without JavaScript the page
// reloads itself every 30 seconds (a <noscript> refresh) instead.
(function () {
  "use strict";
  var etag = null;
  var every = 2000;
  function tick() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(window.location.href, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (resp) {
        if (resp.status !== 200) { return null; }
        etag = resp.headers.get("ETag");
        return resp.text();
      })
      .then(function (text) {
        if (!text) { return; }
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("board");
        var board = document.getElementById("board");
        if (fresh && board && fresh.innerHTML !== board.innerHTML) {
          board.innerHTML = fresh.innerHTML;
          document.title = doc.title;
        }
      })
      .catch(function () {})
      .then(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
})();
