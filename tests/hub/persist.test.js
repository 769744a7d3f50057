'use strict';
// Presses waiting for the bridge are kept in the hub's datastore: a reboot does not lose them.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startHub } = require('./sim/hub');
const { SimDatastore } = require('./sim/datastore');
const { FakeClock } = require('./sim/clock');
const { FRONT, openClicks } = require('./sim/helpers');

const NO_JITTER = () => 0;

test('presses waiting when the hub reboots are sent after it, in order, with their ids', () => {
  const clock = new FakeClock();
  const datastore = new SimDatastore(clock);
  const before = startHub({ buttons: [FRONT], random: NO_JITTER, clock, datastore });
  clock.advance(0);
  for (const kind of ['single', 'double', 'hold']) {
    before.buttons.press(FRONT.bdaddr, kind);
    clock.advance(100);
    for (const r of before.http.open()) r.fail('ECONNREFUSED');
  }
  clock.advance(0);
  const [firstTry] = before.http.ofType('click');
  const waiting = JSON.parse(datastore.values.get('flic-forwarder.pending')).map((e) => e.id);
  assert.equal(waiting.length, 3);
  assert.equal(waiting[0], firstTry.body.event_id);

  // Reboot: the old module is gone (its timers with it); the new one was given a new token.
  clock.timers.clear();
  clock.advance(30_000);
  const after = startHub({
    buttons: [FRONT], random: NO_JITTER, clock, datastore, config: { token: 'fixed-token' },
  });
  assert.equal(openClicks(after).length, 0, 'nothing is sent before the saved presses are read');
  after.buttons.press(FRONT.bdaddr, 'single');
  clock.advance(0);
  const delivered = [];
  for (let i = 0; i < 20 && delivered.length < 4; i++) {
    const [open] = openClicks(after);
    if (!open) { clock.advance(1000); continue; }
    delivered.push(open);
    open.respond(202);
  }
  assert.deepEqual(delivered.map((r) => r.body.click), ['single', 'double', 'hold', 'single']);
  assert.deepEqual(delivered.slice(0, 3).map((r) => r.body.event_id), waiting);
  for (const r of delivered) assert.equal(r.headers.Authorization, 'Bearer fixed-token');
  clock.advance(0);
  assert.deepEqual(JSON.parse(datastore.values.get('flic-forwarder.pending')), []);
});

test('the saved queue stays within queueSize: the oldest saved presses are dropped and reported', () => {
  const clock = new FakeClock();
  const datastore = new SimDatastore(clock);
  const before = startHub({ buttons: [FRONT], clock, datastore, config: { queueSize: 3 } });
  clock.advance(0);
  for (let i = 0; i < 3; i++) before.buttons.press(FRONT.bdaddr, 'single');
  for (const r of before.http.open()) r.fail('ECONNREFUSED');
  clock.advance(0);
  clock.timers.clear();
  const after = startHub({ buttons: [FRONT], clock, datastore, config: { queueSize: 2 } });
  clock.advance(0);
  const beat = after.http.ofType('heartbeat');
  beat[0].respond(503);
  clock.advance(60_000);
  const report = after.http.open().find((r) => r.body.type === 'heartbeat');
  assert.equal(report.body.dropped.count, 1);
  assert.equal(report.body.pending, 2);
  assert.equal(JSON.parse(datastore.values.get('flic-forwarder.pending')).length, 2);
});

test('a datastore that never answers delays presses by seconds, it does not stop them', () => {
  const clock = new FakeClock();
  const silent = { put() {}, get() {} };
  const hub = startHub({ buttons: [FRONT], clock, datastore: silent });
  hub.buttons.press(FRONT.bdaddr, 'single');
  assert.equal(openClicks(hub).length, 0);
  clock.advance(5000);
  const [req] = openClicks(hub);
  assert.equal(req.body.click, 'single');
});

test('a datastore that fails to save is logged and the presses still go out', () => {
  const clock = new FakeClock();
  const datastore = new SimDatastore(clock);
  datastore.failPuts = true;
  const hub = startHub({ buttons: [FRONT], clock, datastore });
  clock.advance(0);
  hub.buttons.press(FRONT.bdaddr, 'double');
  clock.advance(0);
  const [req] = openClicks(hub);
  assert.equal(req.body.click, 'double');
  assert.ok(hub.logLines.some((l) => /could not save the waiting presses \(datastore write failed\)/.test(l)));
});
