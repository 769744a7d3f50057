'use strict';
// Heartbeats tell the bridge the hub is alive, what buttons it knows, and what it had to drop.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startHub } = require('./sim/hub');
const { FRONT, BACK, answerHeartbeats, openClicks } = require('./sim/helpers');

test('a heartbeat goes out at start and every heartbeatSeconds with the known buttons', () => {
  const hub = startHub({ buttons: [FRONT, BACK], config: { heartbeatSeconds: 30 } });
  answerHeartbeats(hub);
  hub.clock.advance(29_000);
  assert.equal(hub.http.ofType('heartbeat').length, 1);
  hub.clock.advance(1000);
  answerHeartbeats(hub);
  hub.buttons.update(BACK.bdaddr, { connected: true, batteryStatus: 11 });
  hub.clock.advance(60_000);
  answerHeartbeats(hub);

  const beats = hub.http.ofType('heartbeat');
  assert.equal(beats.length, 4);
  const last = beats.at(-1);
  assert.equal(last.headers.Authorization, 'Bearer hub-token');
  assert.equal(last.body.hub_id, 'hub-1');
  assert.deepEqual(last.body.buttons, [
    { name: 'front-desk', bdaddr: '80:e4:da:71:23:45', battery: 87, connected: true },
    { name: 'back-door', bdaddr: '80:e4:da:71:99:01', battery: 11, connected: true },
  ]);
  assert.deepEqual(beats[0].body.buttons[1],
    { name: 'back-door', bdaddr: '80:e4:da:71:99:01', battery: 12, connected: false });
  assert.deepEqual(last.body.dropped, { count: 0, event_ids: [] });
  assert.equal(last.body.uptime_s, 90);
  assert.equal(last.body.heartbeat_s, 30);
});

test('a full queue drops the oldest press and the next heartbeat reports it', () => {
  const hub = startHub({ buttons: [FRONT], config: { queueSize: 3, heartbeatSeconds: 10 } });
  answerHeartbeats(hub);
  // The bridge accepts heartbeats' connection but is failing clicks: nothing gets through.
  hub.buttons.press(FRONT.bdaddr, 'single');
  const [inFlight] = openClicks(hub);
  const ids = [inFlight.body.event_id];
  for (const kind of ['double', 'hold', 'single', 'double']) {
    hub.buttons.press(FRONT.bdaddr, kind);
  }
  inFlight.respond(503);
  // Heartbeat at 10 s fails: the drop report must survive it.
  hub.clock.advance(10_000);
  for (const r of hub.http.open()) r.respond(503);
  hub.clock.advance(10_000);
  const report = hub.http.open().find((r) => r.body.type === 'heartbeat');
  assert.ok(report);
  assert.equal(report.body.dropped.count, 2);
  assert.equal(report.body.pending, 3);
  report.respond(202);

  // The press in flight was kept; the two after it were dropped; the rest go out in order.
  const delivered = [];
  for (let i = 0; i < 100 && delivered.length < 3; i++) {
    const open = openClicks(hub);
    if (open.length) {
      delivered.push(open[0].body);
      open[0].respond(202);
    } else {
      hub.clock.advance(1000);
    }
    answerHeartbeats(hub);
  }
  assert.deepEqual(delivered.map((b) => b.click), ['single', 'single', 'double']);
  assert.equal(delivered[0].event_id, ids[0]);
  const all = new Set(hub.http.ofType('click').map((r) => r.body.event_id));
  assert.equal(all.size, 3);
  assert.deepEqual(report.body.dropped.event_ids.filter((id) => all.has(id)), []);
  assert.equal(report.body.dropped.event_ids.length, 2);

  // Once reported, a drop is not reported again.
  hub.clock.advance(10_000);
  const next = hub.http.open().find((r) => r.body.type === 'heartbeat');
  assert.deepEqual(next.body.dropped, { count: 0, event_ids: [] });
});

test('without a bridge URL no heartbeats are sent', () => {
  const hub = startHub({ config: { bridgeUrl: '', alertUrl: 'http://server.test/inbound/abc' } });
  hub.clock.advance(600_000);
  assert.equal(hub.http.requests.length, 0);
});
