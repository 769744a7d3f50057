'use strict';
// The module against the Hub SDK's real shapes: queued presses with `age`, the hub's serial
// number as default name, an exports-only loader, and names outside the BMP sent as ASCII JSON.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startHub } = require('./sim/hub');
const { loadHubModule } = require('./sim/loader');
const { FakeClock } = require('./sim/clock');
const { SimButtons } = require('./sim/buttons');
const { ScriptedHttp } = require('./sim/http');
const { FRONT } = require('./sim/helpers');

test('a press the hub queued carries its age: the real press time and queued_s', () => {
  const hub = startHub({ buttons: [FRONT] });
  hub.buttons.press(FRONT.bdaddr, 'hold', { wasQueued: true, age: 12 });
  const [req] = hub.http.ofType('click');
  assert.equal(req.body.queued, true);
  assert.equal(req.body.queued_s, 12);
  assert.equal(req.body.pressed_at, '2026-11-26T06:59:48.000Z');
});

test('an empty hubId names the hub by its serial number', () => {
  const hub = startHub({ buttons: [FRONT], config: { hubId: '' }, serialNumber: 'LR0A1B2C' });
  hub.buttons.press(FRONT.bdaddr, 'single');
  const [beat] = hub.http.ofType('heartbeat');
  const [click] = hub.http.ofType('click');
  assert.equal(beat.body.hub_id, 'LR0A1B2C');
  assert.equal(click.body.hub_id, 'LR0A1B2C');
  assert.match(click.body.event_id, /^LR0A1B2C-/);
});

test('the simulated loader honours only exports: module.exports is ignored', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-exports-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.js'), 'module.exports = {x: 1}; exports.y = 2;');
    fs.writeFileSync(path.join(dir, 'main.js'),
      'var a = require("./a"); console.log(String(a.x) + " " + String(a.y));');
    const { logLines } = loadHubModule({
      buttons: new SimButtons(), http: new ScriptedHttp(), clock: new FakeClock(), dir,
    });
    assert.deepEqual(logLines, ['undefined 2']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('names and hub ids outside ASCII go out as pure-ASCII JSON, emoji never cut in half', () => {
  const cut = `${'x'.repeat(99)}\u{1F600}`; // the emoji's two halves sit at 99 and 100
  const hub = startHub({
    config: { hubId: 'K\u00fcche \u{1F600}' },
    buttons: [{ bdaddr: FRONT.bdaddr, name: cut }, { bdaddr: '80:e4:da:00:00:02', name: 'a\ud800b' }],
  });
  answerAll(hub);
  hub.buttons.press(FRONT.bdaddr, 'single');
  answerAll(hub);
  hub.buttons.press('80:e4:da:00:00:02', 'double');
  const [first, second] = hub.http.ofType('click');
  for (const r of [first, second]) {
    assert.match(r.content, /^[\x20-\x7e]*$/, 'every byte is printable ASCII');
  }
  assert.equal(first.body.hub_id, 'K\u00fcche \u{1F600}');
  assert.equal(first.body.name, 'x'.repeat(99));
  assert.equal(second.body.name, 'a\ufffdb');
  assert.match(hub.http.ofType('heartbeat')[0].content, /^[\x20-\x7e]*$/);
});

function answerAll(hub) {
  for (const r of hub.http.open()) r.respond(202);
}
