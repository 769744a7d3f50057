// Sends queued presses one at a time, in order, retrying with backoff until each is answered.

var backoff = require("./backoff");
var request = require("./request");

var MAX_REPORTED = 50;

// d: {http, timers, queue, random, log, retryMinMs, retryMaxMs, timeoutMs}. It sends nothing
// until start() (called once the presses saved before a restart are back in the queue).
function createSender(d) {
  var started = false;
  var busy = null;
  var retryTimer = null;
  var failures = 0;
  var rejected = [];

  function describe(err, res) {
    return err ? String(err.message || err) : "HTTP " + res.statusCode;
  }

  function scheduleRetry(item, reason) {
    var delay;
    failures = failures + 1;
    delay = backoff.retryDelayMs(failures, d.retryMinMs, d.retryMaxMs, d.random());
    d.log("flic-forwarder: " + item.eventId + " not delivered (" + reason + "), retry in " +
      delay + " ms");
    retryTimer = d.timers.setTimeout(function () {
      retryTimer = null;
      pump();
    }, delay);
  }

  function send(item) {
    busy = item;
    item.attempts = item.attempts + 1;
    request.requestOnce(d.http, d.timers, item.request, d.timeoutMs, function (err, res) {
      var verdict = backoff.classifyAnswer(err, res ? res.statusCode : 0);
      busy = null;
      if (verdict === "retry") {
        scheduleRetry(item, describe(err, res));
        return;
      }
      if (verdict === "reject") {
        rejected.push({event_id: item.eventId, status: res.statusCode});
        if (rejected.length > MAX_REPORTED) {
          rejected.splice(0, rejected.length - MAX_REPORTED);
        }
        d.log("flic-forwarder: " + item.eventId + " refused for good (" + describe(err, res) + ")");
      }
      failures = 0;
      d.queue.remove(item);
      pump();
    });
  }

  function pump() {
    var item;
    if (!started || busy || retryTimer !== null) {
      return;
    }
    item = d.queue.head();
    if (item) {
      send(item);
    }
  }

  function enqueue(item) {
    var victim = d.queue.push(item, busy);
    if (victim) {
      d.log("flic-forwarder: queue full, dropped " + victim.eventId);
    }
    pump();
  }

  // Retry now instead of waiting out the backoff (the bridge just answered a heartbeat).
  function kick() {
    if (retryTimer !== null) {
      d.timers.clearTimeout(retryTimer);
      retryTimer = null;
    }
    pump();
  }

  function takeRejects() {
    var list = rejected;
    rejected = [];
    return list;
  }

  function returnRejects(list) {
    rejected = list.concat(rejected);
    if (rejected.length > MAX_REPORTED) {
      rejected.splice(0, rejected.length - MAX_REPORTED);
    }
  }

  // Idempotent: a second call only pumps.
  function start() {
    started = true;
    pump();
  }

  return {
    start: start,
    busy: function () { return busy; },
    enqueue: enqueue,
    kick: kick,
    takeRejects: takeRejects,
    returnRejects: returnRejects
  };
}

exports.createSender = createSender;
