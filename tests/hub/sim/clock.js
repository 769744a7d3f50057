'use strict';
// A clock whose timers fire only when a test advances it: deterministic hub time.

class FakeClock {
  constructor(startMs = Date.UTC(2026, 10, 26, 7, 0, 0)) {
    this.nowMs = startMs;
    this.nextId = 1;
    this.timers = new Map();
  }

  now() {
    return this.nowMs;
  }

  setTimeout(fn, ms) {
    return this._add(fn, ms, null);
  }

  setInterval(fn, ms) {
    return this._add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(id) {
    this.timers.delete(id);
  }

  clearInterval(id) {
    this.timers.delete(id);
  }

  _add(fn, ms, every) {
    if (typeof fn !== 'function') {
      throw new TypeError('timer callback must be a function');
    }
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.nowMs + Math.max(0, Number(ms) || 0), fn, every });
    return id;
  }

  /** The time of the next timer due, or null. */
  nextDueAt() {
    let best = null;
    for (const t of this.timers.values()) {
      if (best === null || t.at < best) best = t.at;
    }
    return best;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in time order. */
  advance(ms) {
    const until = this.nowMs + ms;
    for (;;) {
      let due = null;
      for (const t of this.timers.values()) {
        if (t.at <= until && (due === null || t.at < due.at || (t.at === due.at && t.id < due.id))) {
          due = t;
        }
      }
      if (due === null) break;
      this.nowMs = Math.max(this.nowMs, due.at);
      if (due.every === null) {
        this.timers.delete(due.id);
      } else {
        due.at += due.every;
      }
      due.fn();
    }
    this.nowMs = until;
  }
}

module.exports = { FakeClock };
