// The station board: live through /api/v1/stream (Server-Sent Events), chimes with Web Audio.
(function () {
  "use strict";
  var RANK = { urgent: 0, high: 1, normal: 2, low: 3 };
  var STALE_MS = 45000; // the server pings every 15 s: this long without a word means it is gone
  var params = new URLSearchParams(window.location.search);
  var everyS = Math.max(1, Number(params.get("every")) || 10);
  var alerts = new Map();
  var offsetMs = 0; // server clock minus ours, so ages are right on a board with a wrong clock
  var lastHeard = 0;
  var source = null;
  var audio = null;
  var lastChime = 0;
  var chimedFor = new Set();
  var canClose = document.body.dataset.canClose === "yes";
  var list = document.getElementById("alerts");
  var rowTemplate = document.getElementById("alert-row");
  var banner = document.getElementById("banner");
  var summary = document.getElementById("summary");
  var soundButton = document.getElementById("sound");
  var notice = "";
  var noticeUntil = 0;

  function heard(now) {
    lastHeard = Date.now();
    if (now) offsetMs = Date.parse(now) - Date.now();
  }

  function setBanner(down) {
    banner.hidden = !down;
    document.body.dataset.connection = down ? "down" : "live";
  }

  function connect() {
    if (source) source.close();
    source = new EventSource("/api/v1/stream");
    source.onopen = function () { heard(null); };
    source.addEventListener("snapshot", function (e) {
      var data = JSON.parse(e.data);
      alerts.clear();
      data.alerts.forEach(function (a) { alerts.set(a.id, a); });
      heard(data.now);
      setBanner(false);
      render();
    });
    source.addEventListener("alert", function (e) {
      var data = JSON.parse(e.data);
      var a = data.alert;
      if (a.status === "closed") alerts.delete(a.id); else alerts.set(a.id, a);
      heard(data.now);
      render();
    });
    source.addEventListener("ping", function (e) { heard(JSON.parse(e.data).now); setBanner(false); });
    source.onerror = function () {
      setBanner(true);
      if (source.readyState === EventSource.CLOSED) window.setTimeout(connect, 2000);
    };
  }

  function sorted() {
    return Array.from(alerts.values()).sort(function (a, b) {
      var r = (RANK[a.priority] ?? 2) - (RANK[b.priority] ?? 2);
      return r !== 0 ? r : Date.parse(a.opened_at) - Date.parse(b.opened_at) || a.id - b.id;
    });
  }

  function age(openedAt) {
    var s = Math.max(0, Math.floor((Date.now() + offsetMs - Date.parse(openedAt)) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
    return (h > 0 ? h + ":" : "") + mm + ":" + ss;
  }

  function act(id, verb) {
    fetch("/board/alerts/" + id + "/" + verb, {
      method: "POST", credentials: "same-origin", headers: { "X-Board-Request": "1" }
    }).then(function (r) {
      if (r.ok) return;
      return r.json().then(function (body) { say("Not done: " + (body.detail || r.status)); });
    }).catch(function () { say("Not done: the server cannot be reached"); });
  }

  function say(text) { notice = text; noticeUntil = Date.now() + 8000; tick(); }

  function render() {
    var items = sorted();
    list.replaceChildren();
    items.forEach(function (a) {
      var row = rowTemplate.content.firstElementChild.cloneNode(true);
      var priority = a.priority || "normal";
      row.dataset.alertId = a.id;
      row.dataset.openedAt = a.opened_at;
      row.classList.add(a.status, priority);
      var prio = row.querySelector(".prio");
      prio.textContent = priority;
      prio.className = "prio prio-" + priority;
      row.querySelector(".drill").hidden = !a.drill;
      row.querySelector(".state").textContent = a.status;
      row.querySelector(".title").textContent = (a.drill ? "DRILL: " : "") + a.title;
      row.querySelector(".source").textContent = a.source_name;
      row.querySelector(".desc").textContent = a.description || "";
      var ack = row.querySelector(".ack");
      ack.hidden = a.status !== "open";
      ack.addEventListener("click", function () { act(a.id, "acknowledge"); });
      var close = row.querySelector(".close");
      close.hidden = !canClose;
      close.addEventListener("click", function () { act(a.id, "close"); });
      list.appendChild(row);
    });
    document.getElementById("empty").hidden = items.length > 0;
    var open = items.filter(function (a) { return a.status === "open"; });
    open.forEach(function (a) {
      if (!chimedFor.has(a.id)) { chimedFor.add(a.id); lastChime = 0; } // a new call rings at once
    });
    document.title = (open.length ? "(" + open.length + ") " : "") + "Station board";
    tick();
  }

  function tone(at, freq, length, type, gain) {
    var osc = audio.createOscillator();
    var vol = audio.createGain();
    osc.type = type;
    osc.frequency.value = freq;
    vol.gain.setValueAtTime(0.0001, at);
    vol.gain.exponentialRampToValueAtTime(gain, at + 0.02);
    vol.gain.exponentialRampToValueAtTime(0.0001, at + length);
    osc.connect(vol).connect(audio.destination);
    osc.start(at);
    osc.stop(at + length + 0.05);
  }

  function chime(urgent) {
    if (!audio || audio.state !== "running") return false;
    var t = audio.currentTime + 0.05;
    if (urgent) { // four fast, high, hard beeps
      for (var i = 0; i < 4; i++) tone(t + i * 0.22, i % 2 ? 1400 : 1000, 0.16, "square", 0.35);
    } else { // a soft two-note ding-dong
      tone(t, 880, 0.5, "sine", 0.5);
      tone(t + 0.45, 660, 0.7, "sine", 0.5);
    }
    return true;
  }

  function tick() {
    var now = Date.now();
    list.querySelectorAll(".alert").forEach(function (row) {
      row.querySelector(".age").textContent = age(row.dataset.openedAt);
    });
    var open = Array.from(alerts.values()).filter(function (a) { return a.status === "open"; });
    var urgent = open.some(function (a) { return a.priority === "urgent"; });
    var acked = alerts.size - open.length;
    var ringing = open.length > 0;
    document.body.dataset.sounding = ringing ? (urgent ? "urgent" : "normal") : "no";
    if (ringing && now - lastChime >= everyS * 1000 && chime(urgent)) lastChime = now;
    if (lastHeard && now - lastHeard > STALE_MS) { setBanner(true); lastHeard = now; connect(); }
    var text = open.length + " open · " + acked + " acknowledged";
    if (notice && now < noticeUntil) text += " · " + notice;
    summary.textContent = text;
    document.getElementById("clock").textContent = new Date(now + offsetMs).toLocaleTimeString();
  }

  soundButton.addEventListener("click", function () {
    if (audio && audio.state === "running") {
      audio.suspend();
      soundButton.textContent = "Sound off: tap to enable sound";
      soundButton.setAttribute("aria-pressed", "false");
      return;
    }
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { say("this browser has no Web Audio"); return; }
    if (!audio) audio = new Ctx();
    audio.resume().then(function () {
      soundButton.textContent = "Sound on";
      soundButton.setAttribute("aria-pressed", "true");
      lastChime = 0;
      tick();
    });
  });

  setBanner(false);
  connect();
  window.setInterval(tick, 1000);
})();
