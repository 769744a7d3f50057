// alert-server console: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  var REFRESH_MS = 5000;

  function busy(region) {
    var active = document.activeElement;
    return active && region.contains(active) && /INPUT|SELECT|TEXTAREA/.test(active.tagName);
  }

  // Live updates: re-fetch this page and swap every [data-live] region that has an id.
  function refresh() {
    var regions = document.querySelectorAll("[data-live][id]");
    if (!regions.length || document.hidden) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "console" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (text) {
        var status = document.querySelector("[data-live-status]");
        if (text === null) { if (status) status.textContent = "updates paused (log in again?)"; return; }
        var doc = new DOMParser().parseFromString(text, "text/html");
        regions.forEach(function (region) {
          var fresh = doc.getElementById(region.id);
          if (fresh && !busy(region) && fresh.innerHTML !== region.innerHTML) region.innerHTML = fresh.innerHTML;
        });
        if (status) status.textContent = "updated " + new Date().toLocaleTimeString();
      })
      .catch(function () {
        var status = document.querySelector("[data-live-status]");
        if (status) status.textContent = "server unreachable, retrying";
      });
  }

  function copy(button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); document.execCommand("copy"); done(); });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-copy]");
    if (target) { event.preventDefault(); copy(target); }
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  setInterval(refresh, REFRESH_MS);
})();
