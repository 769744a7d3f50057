'use strict';
// One physical press becomes exactly one POST to the bridge, with the contract's body.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startHub, BRIDGE } = require('./sim/hub');
const { FRONT, BACK, answerHeartbeats } = require('./sim/helpers');

test('each physical press makes one request with the right body and headers', () => {
  const hub = startHub({ buttons: [FRONT] });
  answerHeartbeats(hub);
  hub.buttons.press(FRONT.bdaddr, 'single');
  hub.clock.advance(250);
  hub.buttons.press(FRONT.bdaddr, 'double');
  hub.buttons.press(FRONT.bdaddr, 'hold');

  // The hub fired a dozen events in several classes for those three presses...
  assert.equal(hub.buttons.emitted.filter((n) => n !== 'buttonAdded').length, 17);
  // ...and the module sent the first press at once, the others wait their turn.
  const clicks = hub.http.ofType('click');
  assert.equal(clicks.length, 1);
  clicks[0].respond(202);
  hub.http.ofType('click')[1].respond(202);
  hub.http.ofType('click')[2].respond(202);
  hub.clock.advance(120_000);
  answerHeartbeats(hub);

  const sent = hub.http.ofType('click');
  assert.deepEqual(sent.map((r) => r.body.click), ['single', 'double', 'hold']);
  const first = sent[0];
  assert.equal(first.url, `${BRIDGE}/hub/events`);
  assert.equal(first.method, 'POST');
  assert.equal(first.headers.Authorization, 'Bearer hub-token');
  assert.equal(first.headers['Content-Type'], 'application/json');
  assert.deepEqual(Object.keys(first.body).sort(), [
    'battery', 'bdaddr', 'click', 'event_id', 'hub_id', 'name', 'pressed_at', 'queued',
    'queued_s', 'serial', 'type',
  ]);
  assert.equal(first.body.type, 'click');
  assert.equal(first.body.bdaddr, '80:e4:da:71:23:45');
  assert.equal(first.body.name, 'front-desk');
  assert.equal(first.body.battery, 87);
  assert.equal(first.body.hub_id, 'hub-1');
  assert.equal(first.body.queued, false);
  assert.equal(first.body.pressed_at, '2026-11-26T07:00:00.000Z');
  assert.equal(sent[1].body.pressed_at, '2026-11-26T07:00:00.250Z');
  assert.equal(new Set(sent.map((r) => r.body.event_id)).size, 3, 'every press has its own id');
  for (const r of sent) assert.equal(r.headers['Idempotency-Key'], r.body.event_id);
});

test('a press the button queued out of range carries its age and real press time', () => {
  const hub = startHub({ buttons: [FRONT] });
  hub.buttons.press(FRONT.bdaddr, 'single', { wasQueued: true, timeDiff: 42 });
  const [req] = hub.http.ofType('click');
  assert.equal(req.body.queued, true);
  assert.equal(req.body.queued_s, 42);
  assert.equal(req.body.pressed_at, '2026-11-26T06:59:18.000Z');
});

test('a button the hub does not know by name is still forwarded by address', () => {
  const hub = startHub({ buttons: [] });
  hub.buttons.press('80:E4:DA:00:00:07', 'hold');
  const [req] = hub.http.ofType('click');
  assert.equal(req.body.bdaddr, '80:e4:da:00:00:07');
  assert.equal(req.body.name, null);
  assert.equal(req.body.battery, null);
  assert.equal(req.body.click, 'hold');
});

test('presses of two buttons both go out, each with its own name', () => {
  const hub = startHub({ buttons: [FRONT, BACK] });
  hub.buttons.press(BACK.bdaddr, 'single');
  hub.http.ofType('click')[0].respond(202);
  hub.buttons.press(FRONT.bdaddr, 'single');
  const names = hub.http.ofType('click').map((r) => r.body.name);
  assert.deepEqual(names, ['back-door', 'front-desk']);
});

test('the module loads only the SDK modules and its own files', () => {
  const hub = startHub();
  assert.deepEqual([...hub.loaded].sort(), [
    'backoff.js', 'bodies.js', 'config.js', 'forwarder.js', 'heartbeat.js', 'ids.js', 'main.js',
    'queue.js', 'request.js', 'sender.js', 'settings.js', 'store.js',
  ]);
  assert.match(hub.logLines[0], /started as hub-1/);
});

test('odd hub ids, long names and odd battery values still make bodies the bridge accepts', () => {
  const longName = 'Reception desk, ground floor, next to the lift — '.repeat(4);
  const hub = startHub({
    config: { hubId: 'Küche Hub (2. OG)' },
    buttons: [{ bdaddr: FRONT.bdaddr, name: longName, batteryStatus: 250 }],
  });
  hub.buttons.press(FRONT.bdaddr, 'single', { wasQueued: true, timeDiff: 1e12 });
  const [req] = hub.http.ofType('click');
  assert.match(req.body.event_id, /^K_che_Hub_2._OG_-[0-9a-z]+-1$/);
  assert.equal(req.body.hub_id, 'Küche Hub (2. OG)');
  assert.equal(req.body.name, longName.substring(0, 100));
  assert.equal(req.body.battery, null);
  assert.equal(req.body.queued_s, 30 * 24 * 3600);
  assert.ok(Number.isFinite(Date.parse(req.body.pressed_at)));
});
