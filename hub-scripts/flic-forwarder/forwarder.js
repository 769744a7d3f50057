// Composes the module: button events become queued requests; heartbeats report the hub.

var bodies = require("./bodies");
var settingsOf = require("./settings");
var ids = require("./ids");
var queues = require("./queue");
var senders = require("./sender");
var heartbeats = require("./heartbeat");

function lookUp(buttons, bdaddr) {
  try {
    return buttons.getButton(bdaddr) || null;
  } catch (e) {
    return null;
  }
}

// The request for one press, or null when nothing is to be sent for it.
function requestFor(s, event, click, button, eventId, nowMs) {
  var body;
  if (s.alertUrl) {
    body = bodies.alertBody(s, click, button, event.bdaddr);
    return body ? bodies.jsonPost(s.alertUrl, "", body, eventId) : null;
  }
  body = bodies.clickBody(s.hubId, event, click, button, eventId, nowMs);
  return bodies.jsonPost(s.hubUrl, s.token, body, eventId);
}

// d: {buttons, http, config, timers: {setTimeout, clearTimeout, setInterval}, nowMs, random, log}
function start(d) {
  var s = settingsOf.readSettings(d.config);
  var nextId = ids.makeIdMinter(s.hubId, d.nowMs(), d.random);
  var queue = queues.createQueue(s.queueSize);
  var sender = senders.createSender({
    http: d.http, timers: d.timers, queue: queue, random: d.random, log: d.log,
    retryMinMs: s.retryMinMs, retryMaxMs: s.retryMaxMs, timeoutMs: s.timeoutMs
  });

  if (!s.hubUrl && !s.alertUrl) {
    d.log("flic-forwarder: config.js sets neither bridgeUrl nor alertUrl: nothing will be sent");
  }

  d.buttons.on("buttonSingleOrDoubleClickOrHold", function (event) {
    var click = bodies.clickTypeOf(event);
    var eventId;
    var req;
    if (!click) {
      return;
    }
    eventId = nextId();
    req = requestFor(s, event, click, lookUp(d.buttons, event.bdaddr), eventId, d.nowMs());
    if (req) {
      sender.enqueue({eventId: eventId, request: req, attempts: 0});
    }
  });

  heartbeats.startHeartbeats({
    http: d.http, timers: d.timers, buttons: d.buttons, queue: queue, sender: sender,
    settings: s, nowMs: d.nowMs, log: d.log
  });
  d.log("flic-forwarder: started as " + s.hubId + ", sending to " + (s.alertUrl || s.hubUrl));
}

exports.start = start;
