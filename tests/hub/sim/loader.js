'use strict';
// Runs the real hub-scripts files as the Hub SDK does: CommonJS with `require("buttons")`,
// `require("http")` and relative files, inside a fresh JavaScript context that has only what
// a hub has (timers, console, Date), not Node's globals (process, Buffer, ...).

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { SimDatastore, simHubinfo } = require('./datastore');

const MODULE_DIR = path.resolve(__dirname, '../../../hub-scripts/flic-forwarder');

// Old hub firmware has the ES5 library only: the module must not lean on anything newer.
const ES5_LIBRARY_ONLY = `(function () {
  var gone = {
    Object: ['assign', 'entries', 'values', 'fromEntries', 'is', 'setPrototypeOf',
      'getOwnPropertySymbols'],
    Array: ['from', 'of'],
    'Array.prototype': ['find', 'findIndex', 'findLast', 'findLastIndex', 'includes', 'fill',
      'copyWithin', 'entries', 'keys', 'values', 'flat', 'flatMap', 'at'],
    String: ['fromCodePoint', 'raw'],
    'String.prototype': ['startsWith', 'endsWith', 'includes', 'repeat', 'padStart', 'padEnd',
      'trimStart', 'trimEnd', 'codePointAt', 'normalize', 'at', 'replaceAll', 'matchAll'],
    Number: ['isFinite', 'isNaN', 'isInteger', 'isSafeInteger', 'parseFloat', 'parseInt'],
    Math: ['trunc', 'sign', 'log10', 'log2', 'cbrt', 'hypot', 'fround', 'imul', 'clz32'],
  };
  var owners = {
    Object: Object, Array: Array, 'Array.prototype': Array.prototype, String: String,
    'String.prototype': String.prototype, Number: Number, Math: Math,
  };
  Object.keys(gone).forEach(function (owner) {
    gone[owner].forEach(function (name) { delete owners[owner][name]; });
  });
  ['Promise', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'Proxy', 'Reflect',
    'queueMicrotask', 'structuredClone'].forEach(function (name) { delete globalThis[name]; });
})();`;

function hubContext({ clock, logLines, random }) {
  const log = (...args) => logLines.push(args.map(String).join(' '));
  const context = vm.createContext({
    console: { log, info: log, warn: log, error: log },
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (id) => clock.clearTimeout(id),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    clearInterval: (id) => clock.clearInterval(id),
  });
  // Hub time is the fake clock's: Date.now() and new Date() read it.
  vm.runInContext(`(function (nowFn, randomFn) {
    const RealDate = Date;
    class HubDate extends RealDate {
      constructor(...args) { if (args.length === 0) { super(nowFn()); } else { super(...args); } }
      static now() { return nowFn(); }
    }
    globalThis.Date = HubDate;
    if (randomFn) { Math.random = randomFn; }
  })`, context)(() => clock.now(), random || null);
  vm.runInContext(ES5_LIBRARY_ONLY, context);
  return context;
}

/**
 * Loads `main.js` of the module with the given simulated SDK parts. `config` is laid over the
 * shipped config.js (which is still loaded and parsed). Like the hub's loader, a file's exports
 * are the `exports` object it was given: assigning `module.exports` is ignored. Returns the
 * log lines and the files loaded.
 */
function loadHubModule({
  buttons, http, clock, config = {}, random, dir = MODULE_DIR,
  datastore = new SimDatastore(), hubinfo = simHubinfo(),
}) {
  const logLines = [];
  const context = hubContext({ clock, logLines, random });
  const cache = new Map();
  const builtins = { buttons, http, datastore, hubinfo };

  function load(file) {
    if (cache.has(file)) return cache.get(file);
    const exportsObject = {};
    cache.set(file, exportsObject);
    const source = fs.readFileSync(file, 'utf8');
    const wrapper = vm.runInContext(
      `(function (exports, require, module) {${source}\n})`, context, { filename: file });
    wrapper.call(exportsObject, exportsObject, requireFrom(path.dirname(file)), { exports: exportsObject });
    if (path.basename(file) === 'config.js' && path.dirname(file) === dir) {
      Object.assign(exportsObject, config);
    }
    return exportsObject;
  }

  function requireFrom(base) {
    return function require(name) {
      if (Object.prototype.hasOwnProperty.call(builtins, name)) return builtins[name];
      if (name.startsWith('./') || name.startsWith('../')) {
        const file = path.resolve(base, name.endsWith('.js') ? name : `${name}.js`);
        if (!fs.existsSync(file)) throw new Error(`Cannot find module '${name}'`);
        return load(file);
      }
      throw new Error(`the hub has no module '${name}'`);
    };
  }

  load(path.join(dir, 'main.js'));
  return { logLines, loaded: [...cache.keys()].map((f) => path.basename(f)) };
}

module.exports = { loadHubModule, MODULE_DIR };
