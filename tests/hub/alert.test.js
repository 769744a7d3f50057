'use strict';
// With alertUrl set, the module posts the Flic guide's body straight to an alert server.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startHub } = require('./sim/hub');
const { FRONT } = require('./sim/helpers');

const ALERT_URL = 'http://server.test:8380/inbound/s3cr3t';

test('alertUrl mode sends the Flic guide body: On for single and hold, Off for double', () => {
  const hub = startHub({ buttons: [FRONT], config: { alertUrl: ALERT_URL, bridgeUrl: '' } });
  for (const kind of ['single', 'double', 'hold']) {
    hub.buttons.press(FRONT.bdaddr, kind);
    const [req] = hub.http.open();
    req.respond(202, '{"status": "mapped", "action": "open"}');
  }
  const sent = hub.http.requests;
  assert.equal(sent.length, 3);
  for (const r of sent) {
    assert.equal(r.url, ALERT_URL);
    assert.equal(r.method, 'POST');
    assert.equal(r.headers['Content-Type'], 'application/json');
    assert.equal(r.headers.Authorization, undefined, 'the inbound URL is the credential');
    assert.ok(r.headers['Idempotency-Key'], 'retries are deduplicated by the server');
  }
  assert.deepEqual(sent.map((r) => r.body), [
    { flic_nameId: 'front-desk', flic_state: 'On', info: 'single click on hub-1' },
    { flic_nameId: 'front-desk', flic_state: 'Off', info: 'double click on hub-1' },
    { flic_nameId: 'front-desk', flic_state: 'On', info: 'hold click on hub-1' },
  ]);
});

test('alertUrl mode retries with the same idempotency key and skips unmapped clicks', () => {
  const hub = startHub({
    buttons: [FRONT], random: () => 0,
    config: { alertUrl: ALERT_URL, bridgeUrl: '', alertOn: ['hold'], alertOff: [] },
  });
  hub.buttons.press(FRONT.bdaddr, 'single');
  hub.buttons.press(FRONT.bdaddr, 'double');
  assert.equal(hub.http.requests.length, 0, 'clicks that map to neither On nor Off are not sent');
  hub.buttons.press(FRONT.bdaddr, 'hold');
  hub.http.open()[0].fail('ECONNREFUSED');
  hub.clock.advance(1000);
  hub.http.open()[0].respond(202);
  const [a, b] = hub.http.requests;
  assert.equal(a.headers['Idempotency-Key'], b.headers['Idempotency-Key']);
  assert.deepEqual(b.body, { flic_nameId: 'front-desk', flic_state: 'On', info: 'hold click on hub-1' });
});

test('a button without a name is identified by its address', () => {
  const hub = startHub({ config: { alertUrl: ALERT_URL } });
  hub.buttons.press('80:E4:DA:00:00:09', 'single');
  const req = hub.http.requests.find((r) => r.url === ALERT_URL);
  assert.equal(req.body.flic_nameId, '80:e4:da:00:00:09');
});
