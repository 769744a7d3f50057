'use strict';
// A whole simulated hub: clock, buttons, http, and the real module running on it.

const { FakeClock } = require('./clock');
const { SimButtons } = require('./buttons');
const { ScriptedHttp, RealHttp } = require('./http');
const { loadHubModule } = require('./loader');
const { SimDatastore, simHubinfo } = require('./datastore');

const BRIDGE = 'http://bridge.test:8381';

/**
 * Starts the module; `http` is "scripted" (the test answers) or "real" (network). Pass the
 * `datastore` (and `clock`) of an earlier hub to start it again as after a reboot.
 */
function startHub({
  config = {}, buttons = [], http = 'scripted', random, datastore = new SimDatastore(),
  clock = new FakeClock(), serialNumber = 'SIMHUB-0001',
} = {}) {
  const sim = new SimButtons();
  for (const b of buttons) sim.add(b);
  const net = http === 'real' ? new RealHttp() : new ScriptedHttp();
  const fullConfig = { bridgeUrl: BRIDGE, token: 'hub-token', heartbeatSeconds: 60, hubId: 'hub-1', alertUrl: '', ...config };
  const loaded = loadHubModule({
    buttons: sim, http: net, clock, config: fullConfig, random, datastore,
    hubinfo: simHubinfo(serialNumber),
  });
  return { clock, buttons: sim, http: net, datastore, config: fullConfig, ...loaded };
}

module.exports = { startHub, BRIDGE };
