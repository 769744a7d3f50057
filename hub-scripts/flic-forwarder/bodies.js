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

function isHighSurrogate(code) {
  return code >= 0xD800 && code <= 0xDBFF;
}

function isLowSurrogate(code) {
  return code >= 0xDC00 && code <= 0xDFFF;
}

// Text cut to `max` UTF-16 units, never between the two halves of an emoji; null when empty.
function shortText(value, max) {
  var text = value === null || value === undefined ? "" : String(value);
  var end = text.length < max ? text.length : max;
  if (end < text.length && end > 0 && isHighSurrogate(text.charCodeAt(end - 1)) &&
      isLowSurrogate(text.charCodeAt(end))) {
    end = end - 1;
  }
  return end ? text.substring(0, end) : null;
}

function hex4(code) {
  var digits = code.toString(16);
  while (digits.length < 4) {
    digits = "0" + digits;
  }
  return "\\u" + digits;
}

// The text with every lone surrogate (half an emoji) replaced by U+FFFD: engines disagree on
// how to send one (Node escapes it, Duktape sends it raw), and it is not text the bridge can keep.
function wellFormed(text) {
  var out = "";
  var start = 0;
  var i;
  var code;
  for (i = 0; i < text.length; i++) {
    code = text.charCodeAt(i);
    if (isHighSurrogate(code) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      i = i + 1;
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      out = out + text.substring(start, i) + "\ufffd";
      start = i + 1;
    }
  }
  return start ? out + text.substring(start) : text;
}

// JSON as pure ASCII: every UTF-16 unit past 0x7F becomes a \uXXXX escape (an emoji its two
// surrogate escapes). Duktape would otherwise send an emoji as CESU-8 bytes, which are not UTF-8.
function asciiJson(value) {
  var text = JSON.stringify(value, function (key, v) {
    return typeof v === "string" ? wellFormed(v) : v;
  });
  var out = "";
  var start = 0;
  var i;
  var code;
  for (i = 0; i < text.length; i++) {
    code = text.charCodeAt(i);
    if (code >= 0x80) {
      out = out + text.substring(start, i) + hex4(code);
      start = i + 1;
    }
  }
  return start ? out + text.substring(start) : text;
}

function nameOf(button) {
  return button ? shortText(button.name, 100) : null;
}

function isSeconds(value) {
  return typeof value === "number" && isFinite(value) && value >= 0;
}

// Seconds the button held the press before the hub got it (0 unless the event says it was
// queued): the hub's `age`, or `timeDiff` (flicd's name) when a firmware sends that instead.
function queuedSeconds(event) {
  var age = 0;
  if (event && isSeconds(event.age)) {
    age = event.age;
  } else if (event && isSeconds(event.timeDiff)) {
    age = event.timeDiff;
  }
  if (event && event.wasQueued && age > 0) {
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

// makeRequest options for posting `content` (ASCII JSON text); `token` may be empty
// (alert-server URLs carry their own).
function jsonRequest(url, token, content, idempotencyKey) {
  var headers = {"Content-Type": "application/json"};
  if (token) {
    headers.Authorization = "Bearer " + token;
  }
  if (idempotencyKey) {
    headers["Idempotency-Key"] = idempotencyKey;
  }
  return {url: url, method: "POST", headers: headers, content: content};
}

// The same for a body object, sent as ASCII JSON.
function jsonPost(url, token, body, idempotencyKey) {
  return jsonRequest(url, token, asciiJson(body), idempotencyKey);
}

exports.clickTypeOf = clickTypeOf;
exports.clickBody = clickBody;
exports.alertBody = alertBody;
exports.heartbeatBody = heartbeatBody;
exports.jsonRequest = jsonRequest;
exports.jsonPost = jsonPost;
exports.asciiJson = asciiJson;
exports.shortText = shortText;
