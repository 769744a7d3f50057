'use strict';
// The hub's `buttons` module: known buttons, and a physical press emitted in every event
// class the hub fires for it (down/up, click-or-hold, single-or-double, single-or-double-or-hold).

const EVENT_NAMES = new Set([
  'buttonAdded', 'buttonUpdated', 'buttonDeleted', 'buttonConnected', 'buttonReady',
  'buttonDisconnected', 'buttonDown', 'buttonUp', 'buttonClickOrHold',
  'buttonSingleOrDoubleClick', 'buttonSingleOrDoubleClickOrHold',
]);

class SimButtons {
  constructor() {
    this.listeners = new Map();
    this.known = new Map();
    this.emitted = [];
  }

  // --- the SDK surface -------------------------------------------------------------
  on(name, fn) {
    if (!EVENT_NAMES.has(name)) {
      throw new Error(`the hub has no button event "${name}"`);
    }
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(fn);
  }

  getButtons() {
    return [...this.known.values()].map((b) => ({ ...b }));
  }

  getButton(bdaddr) {
    const b = this.known.get(String(bdaddr).toLowerCase());
    return b ? { ...b } : null;
  }

  // --- test controls ----------------------------------------------------------------
  add({ bdaddr, name = '', batteryStatus = null, connected = true, serialNumber = 'BD00-A00000' }) {
    const b = {
      bdaddr: bdaddr.toLowerCase(), serialNumber, color: 'white', name, activeDisconnect: false,
      connected, ready: connected, batteryStatus, firmwareVersion: 10, flicVersion: 2,
      uuid: '0'.repeat(32), key: '0'.repeat(40),
    };
    this.known.set(b.bdaddr, b);
    this._emit('buttonAdded', { button: { ...b } });
    return b;
  }

  update(bdaddr, changes) {
    const b = this.known.get(bdaddr.toLowerCase());
    Object.assign(b, changes);
    this._emit('buttonUpdated', { button: { ...b } });
  }

  /**
   * One physical press of kind "single" | "double" | "hold", as the hub reports it: a queued
   * press carries `wasQueued: true` and its `age` in seconds. `timeDiff` (flicd's name for the
   * age, not sent by the hub) appears only when a test passes it.
   */
  press(bdaddr, kind, { wasQueued = false, age = 0, timeDiff } = {}) {
    const base = { bdaddr, wasQueued, age };
    if (timeDiff !== undefined) {
      delete base.age;
      base.timeDiff = timeDiff;
    }
    const click = { ...base, isClick: true, isHold: false };
    if (kind === 'single') {
      this._emit('buttonDown', base);
      this._emit('buttonUp', base);
      this._emit('buttonClickOrHold', click);
      this._emit('buttonSingleOrDoubleClick', { ...base, isSingleClick: true, isDoubleClick: false });
      this._emit('buttonSingleOrDoubleClickOrHold',
        { ...base, isSingleClick: true, isDoubleClick: false, isHold: false });
    } else if (kind === 'double') {
      for (let i = 0; i < 2; i++) {
        this._emit('buttonDown', base);
        this._emit('buttonUp', base);
        this._emit('buttonClickOrHold', click);
      }
      this._emit('buttonSingleOrDoubleClick', { ...base, isSingleClick: false, isDoubleClick: true });
      this._emit('buttonSingleOrDoubleClickOrHold',
        { ...base, isSingleClick: false, isDoubleClick: true, isHold: false });
    } else if (kind === 'hold') {
      this._emit('buttonDown', base);
      this._emit('buttonClickOrHold', { ...base, isClick: false, isHold: true });
      this._emit('buttonSingleOrDoubleClickOrHold',
        { ...base, isSingleClick: false, isDoubleClick: false, isHold: true });
      this._emit('buttonUp', base);
    } else {
      throw new Error(`unknown press kind ${kind}`);
    }
  }

  _emit(name, event) {
    this.emitted.push(name);
    for (const fn of this.listeners.get(name) || []) fn({ ...event });
  }
}

module.exports = { SimButtons };
