'use strict';
// The module's pure functions, loaded as the hub loads them.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { MODULE_DIR } = require('./sim/loader');

// Plain CommonJS files: Node can load the pure ones directly.
const backoff = require(path.join(MODULE_DIR, 'backoff.js'));
const settings = require(path.join(MODULE_DIR, 'settings.js'));

test('retry delays double from the minimum, stop at the maximum, and jitter only downwards', () => {
  const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoff.retryDelayMs(n, 1000, 30_000, 0));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(backoff.retryDelayMs(3, 1000, 30_000, 1), 3200);
});

test('answers are sorted into done, retry and reject', () => {
  const cases = [[null, 202, 'done'], [null, 200, 'done'], [new Error('x'), 0, 'retry'],
    [null, 500, 'retry'], [null, 503, 'retry'], [null, 401, 'retry'], [null, 404, 'retry'],
    [null, 429, 'retry'], [null, 400, 'reject'], [null, 413, 'reject'], [null, 422, 'reject']];
  for (const [err, status, verdict] of cases) {
    assert.equal(backoff.classifyAnswer(err, status), verdict, `${status}`);
  }
});

test('the bridge URL may be given with or without /hub/events', () => {
  assert.equal(settings.hubEndpoint('http://pi:8381'), 'http://pi:8381/hub/events');
  assert.equal(settings.hubEndpoint('http://pi:8381/'), 'http://pi:8381/hub/events');
  assert.equal(settings.hubEndpoint('http://pi:8381/hub/events'), 'http://pi:8381/hub/events');
  assert.equal(settings.hubEndpoint(''), '');
});

test('missing settings fall back to defaults', () => {
  const s = settings.readSettings({ bridgeUrl: 'http://pi:8381', token: 't' });
  assert.equal(s.heartbeatMs, 60_000);
  assert.equal(s.queueSize, 200);
  assert.equal(s.hubId, 'flic-hub');
  assert.deepEqual(s.alertOn, ['single', 'hold']);
});
