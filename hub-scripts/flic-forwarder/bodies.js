// The JSON bodies and requests the module sends: clicks, Flic-guide alerts, heartbeats.

var MAX_QUEUED_S = 30 * 24 * 3600;

// "single" | "double" | "hold" for a buttonSingleOrDoubleClickOrHold event, else null.
function clickTypeOf(event) {
  if (!event) {
    return null;
  }
  if (event.isSingleClick) {
    return "single";
  }
  if (event.isDoubleClick) {
    return "double";
  }
  if (event.isHold) {
    return "hold";
  }
  return null;
}

function lower(text) {
  return String(text || "").toLowerCase();
}

// Battery percent as an integer 0-100, or null when the hub does not know it.
function batteryOf(button) {
  var level = button ? button.batteryStatus : null;
  if (typeof level !== "number" || !isFinite(level) || level < 0 || level > 100) {
    return null;
  }
  return Math.round(level);
}

// Text cut to `max` characters, or null when empty.
function shortText(value, max) {
  var text = value === null || value === undefined ? "" : String(value);
  return text.length ? text.substring(0, max) : null;
}

function nameOf(button) {
  return button ? shortText(button.name, 100) : null;
}

// Seconds the button held the press before the hub got it (0 unless the event says it was queued).
function queuedSeconds(event) {
  var age = event ? event.timeDiff : 0;
  if (event && event.wasQueued && typeof age === "number" && isFinite(age) && age > 0) {
    return age < MAX_QUEUED_S ? age : MAX_QUEUED_S;
  }
  return 0;
}

// The /hub/events click body; `receivedMs` is the hub's clock when the event arrived.
function clickBody(hubId, event, click, button, eventId, receivedMs) {
  var queuedS = queuedSeconds(event);
  return {
    type: "click",
    bdaddr: lower(event.bdaddr),
    click: click,
    event_id: eventId,
    name: nameOf(button),
    battery: batteryOf(button),
    pressed_at: new Date(receivedMs - queuedS * 1000).toISOString(),
    queued: !!(event && event.wasQueued),
    queued_s: queuedS,
    hub_id: shortText(hubId, 64),
    serial: button ? shortText(button.serialNumber, 64) : null
  };
}

function contains(list, value) {
  var i;
  for (i = 0; i < list.length; i++) {
    if (list[i] === value) {
      return true;
    }
  }
  return false;
}

// The Flic guide's body for an alert-server integration, or null when the click maps to nothing.
function alertBody(settings, click, button, bdaddr) {
  var state = null;
  if (contains(settings.alertOn, click)) {
    state = "On";
  } else if (contains(settings.alertOff, click)) {
    state = "Off";
  }
  if (!state) {
    return null;
  }
  return {
    flic_nameId: nameOf(button) || lower(bdaddr),
    flic_state: state,
    info: click + " click on " + settings.hubId
  };
}

// One entry of a heartbeat's button list.
function buttonSummary(button) {
  return {
    name: nameOf(button),
    bdaddr: lower(button.bdaddr),
    battery: batteryOf(button),
    connected: !!button.connected
  };
}

// r: {drops: {count, ids}, rejects, pending, uptimeS, heartbeatS}
function heartbeatBody(hubId, buttons, r) {
  var list = [];
  var i;
  for (i = 0; i < buttons.length; i++) {
    list.push(buttonSummary(buttons[i]));
  }
  return {
    type: "heartbeat",
    hub_id: shortText(hubId, 64),
    buttons: list,
    dropped: {count: r.drops.count, event_ids: r.drops.ids},
    rejected: r.rejects,
    pending: r.pending,
    uptime_s: r.uptimeS,
    heartbeat_s: r.heartbeatS
  };
}

// makeRequest options for a JSON POST; `token` may be empty (alert-server URLs carry their own).
function jsonPost(url, token, body, idempotencyKey) {
  var headers = {"Content-Type": "application/json"};
  if (token) {
    headers.Authorization = "Bearer " + token;
  }
  if (idempotencyKey) {
    headers["Idempotency-Key"] = idempotencyKey;
  }
  return {url: url, method: "POST", headers: headers, content: JSON.stringify(body)};
}

exports.clickTypeOf = clickTypeOf;
exports.clickBody = clickBody;
exports.alertBody = alertBody;
exports.heartbeatBody = heartbeatBody;
exports.jsonPost = jsonPost;
