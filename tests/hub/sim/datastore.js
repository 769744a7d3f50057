'use strict';
// The hub's `datastore` (put(key, string, cb(err)), get(key, cb(err, string))) and `hubinfo`.
// The stored strings outlive a module: hand the same SimDatastore to a restarted hub.

class SimDatastore {
  constructor(clock = null) {
    this.values = new Map();
    this.clock = clock;
    this.puts = 0;
    this.failPuts = false;
  }

  put(key, value, callback) {
    if (typeof key !== 'string' || typeof value !== 'string') {
      throw new TypeError('datastore.put takes a string key and a string value');
    }
    this.puts++;
    const failing = this.failPuts;
    if (!failing) this.values.set(key, value);
    this._later(() => callback && callback(failing ? 'datastore write failed' : null));
  }

  get(key, callback) {
    if (typeof callback !== 'function') throw new TypeError('datastore.get needs a callback');
    const value = this.values.has(key) ? this.values.get(key) : null;
    this._later(() => callback(null, value));
  }

  // The SDK answers on a later turn: on the fake clock when there is one, else at once.
  _later(fn) {
    if (this.clock) this.clock.setTimeout(fn, 0);
    else fn();
  }
}

function simHubinfo(serialNumber = 'SIMHUB-0001') {
  return { serialNumber, firmwareVersion: '4.3.2' };
}

module.exports = { SimDatastore, simHubinfo };
