'use strict';
// While the bridge is unreachable or failing, presses wait on the hub and go out in order,
// each keeping the event id it was given when pressed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startHub } = require('./sim/hub');
const { FRONT, answerHeartbeats, openClicks } = require('./sim/helpers');

const NO_JITTER = () => 0; // Math.random on the hub: 0 makes backoff delays exact

test('a press is retried until the bridge answers, always with the same event id', () => {
  const hub = startHub({ buttons: [FRONT], random: NO_JITTER, config: { retryMaxSeconds: 8 } });
  answerHeartbeats(hub);
  hub.buttons.press(FRONT.bdaddr, 'single');

  const failures = [
    (r) => r.fail('ECONNREFUSED'),
    (r) => r.respond(503, '{"detail": "outbox busy"}'),
    (r) => r.respond(500),
    (r) => r.respond(429),
    (r) => r.fail('EHOSTUNREACH'),
  ];
  const delays = [];
  for (const fail of failures) {
    const [req] = openClicks(hub);
    fail(req);
    assert.equal(openClicks(hub).length, 0, 'no retry before the backoff delay');
    const waitedFrom = hub.clock.now();
    while (openClicks(hub).length === 0) hub.clock.advance(100);
    delays.push(hub.clock.now() - waitedFrom);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000], 'backoff doubles up to its cap');

  const [last] = openClicks(hub);
  last.respond(202, '{"status": "accepted"}');
  hub.clock.advance(600_000);
  answerHeartbeats(hub);

  const attempts = hub.http.ofType('click');
  assert.equal(attempts.length, 6, 'five failures, one success, then nothing more');
  assert.equal(new Set(attempts.map((r) => r.body.event_id)).size, 1);
  assert.equal(new Set(attempts.map((r) => r.content)).size, 1, 'the retry is the same request');
});

test('a bridge that never answers counts as a failure after the request timeout', () => {
  const hub = startHub({
    buttons: [FRONT], random: NO_JITTER, config: { requestTimeoutSeconds: 5 },
  });
  answerHeartbeats(hub);
  hub.buttons.press(FRONT.bdaddr, 'double');
  const [hung] = openClicks(hub);
  hub.clock.advance(5000 + 1000);
  const retry = openClicks(hub).filter((r) => r !== hung);
  assert.equal(retry.length, 1);
  assert.equal(retry[0].body.event_id, hung.body.event_id);
  // The late answer to the abandoned request changes nothing.
  hung.respond(202);
  retry[0].respond(202);
  hub.clock.advance(60_000);
  answerHeartbeats(hub);
  assert.equal(hub.http.ofType('click').length, 2);
});

test('presses made during an outage are delivered in the order pressed', () => {
  const hub = startHub({ buttons: [FRONT], random: NO_JITTER });
  answerHeartbeats(hub);
  const kinds = ['single', 'double', 'hold', 'single', 'double'];
  for (const kind of kinds) {
    hub.buttons.press(FRONT.bdaddr, kind);
    hub.clock.advance(300);
    for (const r of openClicks(hub)) r.fail('ECONNREFUSED');
  }
  assert.equal(hub.http.open().length, 0);

  // The bridge is back: answer whatever arrives, one at a time, until the hub is idle.
  const delivered = [];
  for (let i = 0; i < 200 && delivered.length < kinds.length; i++) {
    const open = openClicks(hub);
    assert.ok(open.length <= 1, 'one press in flight at a time');
    if (open.length) {
      delivered.push(open[0].body);
      open[0].respond(202);
    } else {
      hub.clock.advance(1000);
    }
  }
  assert.deepEqual(delivered.map((b) => b.click), kinds);
  const times = delivered.map((b) => Date.parse(b.pressed_at));
  assert.deepEqual(times, [...times].sort((a, b) => a - b));
});

test('a heartbeat that gets through sends waiting presses at once instead of after backoff', () => {
  const hub = startHub({
    buttons: [FRONT], random: NO_JITTER, config: { retryMaxSeconds: 300, heartbeatSeconds: 10 },
  });
  answerHeartbeats(hub);
  hub.buttons.press(FRONT.bdaddr, 'single');
  // The bridge is down: six failures push the next retry 64 s away; heartbeats fail too.
  for (let failures = 0; failures < 6; failures++) {
    while (openClicks(hub).length === 0) {
      for (const r of hub.http.open()) r.fail('ECONNREFUSED');
      hub.clock.advance(500);
    }
    openClicks(hub)[0].fail('ECONNREFUSED');
  }
  const clicksBefore = hub.http.ofType('click').length;
  const failedAt = hub.clock.now();
  // The bridge is back: the next heartbeat (within 10 s) gets through and the press follows.
  for (const r of hub.http.open()) r.fail('ECONNREFUSED');
  while (hub.http.open().length === 0) hub.clock.advance(500);
  answerHeartbeats(hub);
  const [resent] = openClicks(hub);
  assert.ok(resent, 'the press went out right after the heartbeat');
  assert.ok(hub.clock.now() - failedAt <= 10_000);
  assert.equal(hub.http.ofType('click').length, clicksBefore + 1);
  resent.respond(202);
});

test('a press the bridge refuses for good does not hold up the ones behind it', () => {
  const hub = startHub({ buttons: [FRONT], random: NO_JITTER });
  answerHeartbeats(hub);
  hub.buttons.press(FRONT.bdaddr, 'single');
  hub.buttons.press(FRONT.bdaddr, 'double');
  const [bad] = openClicks(hub);
  bad.respond(422, '{"detail": "click: must be one of single, double, hold"}');
  const [next] = openClicks(hub);
  assert.equal(next.body.click, 'double');
  next.respond(202);
  hub.clock.advance(60_000);
  const beat = hub.http.open().find((r) => r.body.type === 'heartbeat');
  assert.deepEqual(beat.body.rejected, [{ event_id: bad.body.event_id, status: 422 }]);
});

test('a callback with neither error nor answer counts as a failure, not a crash', () => {
  const hub = startHub({ buttons: [FRONT], random: NO_JITTER });
  answerHeartbeats(hub);
  hub.buttons.press(FRONT.bdaddr, 'hold');
  const [req] = openClicks(hub);
  req.answerRaw(null, undefined);
  hub.clock.advance(1000);
  const retry = openClicks(hub);
  assert.equal(retry.length, 1);
  assert.equal(retry[0].body.event_id, req.body.event_id);
});
