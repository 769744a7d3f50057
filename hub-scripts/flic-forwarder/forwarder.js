// Composes the module: button events become queued requests; heartbeats report the hub.

var bodies = require("./bodies");
var settingsOf = require("./settings");
var ids = require("./ids");
var queues = require("./queue");
var senders = require("./sender");
var stores = require("./store");
var heartbeats = require("./heartbeat");

var LOAD_WAIT_MS = 5000;

function lookUp(buttons, bdaddr) {
  try {
    return buttons.getButton(bdaddr) || null;
  } catch (e) {
    return null;
  }
}

// The request for a body bound to "hub" (the bridge) or "alert" (an alert server), or null
// when that destination is not configured (any more).
function requestTo(s, to, content, eventId) {
  if (to === "alert" && s.alertUrl) {
    return bodies.jsonRequest(s.alertUrl, "", content, eventId);
  }
  if (to === "hub" && s.hubUrl) {
    return bodies.jsonRequest(s.hubUrl, s.token, content, eventId);
  }
  return null;
}

// The queue item for one press, or null when nothing is to be sent for it.
function itemFor(s, event, click, button, eventId, nowMs) {
  var body;
  var to = s.alertUrl ? "alert" : "hub";
  if (to === "alert") {
    body = bodies.alertBody(s, click, button, event.bdaddr);
  } else {
    body = bodies.clickBody(s.hubId, event, click, button, eventId, nowMs);
  }
  if (!body) {
    return null;
  }
  return {eventId: eventId, to: to, request: requestTo(s, to, bodies.asciiJson(body), eventId),
    attempts: 0};
}

// Queue items back from their saved form, rebuilt for the current config.js (a fixed token or
// URL applies to presses saved under the old one).
function restoredItems(s, saved, log) {
  var items = [];
  var i;
  var entry;
  var req;
  for (i = 0; i < saved.length; i++) {
    entry = saved[i] || {};
    req = typeof entry.id === "string" && typeof entry.content === "string" ?
      requestTo(s, entry.to, entry.content, entry.id) : null;
    if (req) {
      items.push({eventId: entry.id, to: entry.to, request: req, attempts: 0});
    } else {
      log("flic-forwarder: a saved press has nowhere to go now (" + entry.to + "), dropped");
    }
  }
  return items;
}

function savedForm(items) {
  var list = [];
  var i;
  for (i = 0; i < items.length; i++) {
    list.push({id: items[i].eventId, to: items[i].to, content: items[i].request.content});
  }
  return bodies.asciiJson(list);
}

// d: {buttons, http, datastore, hubSerial, config, timers: {setTimeout, clearTimeout,
// setInterval}, nowMs, random, log}
function start(d) {
  var s = settingsOf.readSettings(d.config, d.hubSerial);
  var nextId = ids.makeIdMinter(s.hubId, d.nowMs(), d.random);
  var store = stores.createStore(d.datastore || null, d.log);
  var queue = queues.createQueue(s.queueSize, function (items) { store.save(savedForm(items)); });
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
    var item;
    if (!click) {
      return;
    }
    eventId = nextId();
    item = itemFor(s, event, click, lookUp(d.buttons, event.bdaddr), eventId, d.nowMs());
    if (item && item.request) {
      sender.enqueue(item);
    }
  });

  d.log("flic-forwarder: started as " + s.hubId + ", sending to " + (s.alertUrl || s.hubUrl));
  heartbeats.startHeartbeats({
    http: d.http, timers: d.timers, buttons: d.buttons, queue: queue, sender: sender,
    settings: s, nowMs: d.nowMs, log: d.log
  });
  // Presses go out once the saved ones are back in front of them, or after LOAD_WAIT_MS if the
  // datastore does not answer (a late answer still puts the saved presses in the queue).
  d.timers.setTimeout(sender.start, LOAD_WAIT_MS);
  store.load(function (saved) {
    var items = restoredItems(s, saved, d.log);
    var dropped = queue.restore(items, sender.busy());
    if (items.length) {
      d.log("flic-forwarder: " + items.length + " saved presses to send" +
        (dropped ? " (" + dropped + " over queueSize dropped)" : ""));
    }
    sender.start();
  });
}

exports.start = start;
