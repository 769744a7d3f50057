// Sends a heartbeat now and every heartbeatMs: the hub, its buttons, and what was dropped.

var bodies = require("./bodies");
var request = require("./request");

// d: {http, timers, buttons, queue, sender, settings, nowMs, log}
function startHeartbeats(d) {
  var startedMs = d.nowMs();
  var inFlight = false;

  function knownButtons() {
    try {
      return d.buttons.getButtons() || [];
    } catch (e) {
      d.log("flic-forwarder: getButtons failed: " + e);
      return [];
    }
  }

  function beat() {
    var drops;
    var rejects;
    var body;
    var s = d.settings;
    if (inFlight || !s.hubUrl) {
      return;
    }
    inFlight = true;
    drops = d.queue.takeDrops();
    rejects = d.sender.takeRejects();
    body = bodies.heartbeatBody(s.hubId, knownButtons(), {
      drops: drops,
      rejects: rejects,
      pending: d.queue.size(),
      uptimeS: Math.round((d.nowMs() - startedMs) / 1000),
      heartbeatS: s.heartbeatMs / 1000
    });
    request.requestOnce(d.http, d.timers, bodies.jsonPost(s.hubUrl, s.token, body, null),
      s.timeoutMs, function (err, res) {
        inFlight = false;
        if (!err && res && res.statusCode >= 200 && res.statusCode < 300) {
          d.sender.kick();
          return;
        }
        d.queue.returnDrops(drops);
        d.sender.returnRejects(rejects);
        d.log("flic-forwarder: heartbeat failed (" +
          (err ? String(err.message || err) : "HTTP " + res.statusCode) + ")");
      });
  }

  beat();
  return d.timers.setInterval(beat, d.settings.heartbeatMs);
}

exports.startHeartbeats = startHeartbeats;
