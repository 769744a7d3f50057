// flic-bridge status page: live refresh and a remembered bridge token; the page works without it.
(function () {
  "use strict";
  var KEY = "flic-bridge-token";

  function fillTokens() {
    var saved = null;
    try { saved = window.sessionStorage.getItem(KEY); } catch (e) { saved = null; }
    document.querySelectorAll("input.token").forEach(function (input) {
      if (saved && !input.value) input.value = saved;
    });
  }

  function typing() {
    var active = document.activeElement;
    return active && /INPUT|SELECT|TEXTAREA/.test(active.tagName);
  }

  function refresh() {
    if (document.hidden || typing()) return;
    var live = document.getElementById("live");
    var status = document.querySelector("[data-live-status]");
    fetch("/", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("live");
        if (fresh && live && fresh.innerHTML !== live.innerHTML) { live.innerHTML = fresh.innerHTML; fillTokens(); }
        if (status) status.textContent = "updated " + new Date().toLocaleTimeString();
      })
      .catch(function () { if (status) status.textContent = "bridge unreachable, retrying"; });
  }

  document.addEventListener("submit", function (event) {
    var token = event.target.querySelector("input.token");
    if (token && token.value) {
      try { window.sessionStorage.setItem(KEY, token.value); } catch (e) { /* private mode */ }
    }
  });
  fillTokens();
  setInterval(refresh, 5000);
})();
