'use strict';
// Small helpers shared by the hub-module tests.

const FRONT = { bdaddr: '80:E4:DA:71:23:45', name: 'front-desk', batteryStatus: 87 };
const BACK = { bdaddr: '80:e4:da:71:99:01', name: 'back-door', batteryStatus: 12, connected: false };

/** Answers every open heartbeat with `status` (202 by default). */
function answerHeartbeats(hub, status = 202) {
  for (const r of hub.http.open()) {
    if (r.body.type === 'heartbeat') r.respond(status, '{"status": "ok"}');
  }
}

/** The open click requests, oldest first. */
function openClicks(hub) {
  return hub.http.open().filter((r) => r.body.type === 'click' || r.body.flic_state);
}

module.exports = { FRONT, BACK, answerHeartbeats, openClicks };
