// A simulated Flic Hub SDK in plain ES5, so the same scenario runs on real Duktape (`duk`,
// which has no event loop, timers, http or file access) and on Node. The test bundles this
// file, the module's files (each wrapped as a CommonJS function) and scenario.js into one
// script. Only `exports` is honoured, as on the hub: assigning `module.exports` is ignored.

var ENGINE = typeof Duktape === "object" ? "duktape" : "node";

// One output line for the test to read.
function emitLine(line) {
  if (ENGINE === "duktape") {
    print(line);
  } else {
    process.stdout.write(line + "\n");
  }
}

// The bytes the engine's string is made of, as hex: Duktape keeps (and so sends) a character
// outside the BMP as two CESU-8 surrogates; Node encodes strings to UTF-8 when it sends them.
function stringBytesHex(text) {
  if (ENGINE === "duktape") {
    return Duktape.enc("hex", text);
  }
  return Buffer.from(text, "utf8").toString("hex");
}

function makeClock(startMs) {
  var clock = {nowMs: startMs, nextId: 1, timers: []};

  function add(fn, ms, every) {
    var t = {id: clock.nextId, at: clock.nowMs + Math.max(0, Number(ms) || 0), fn: fn, every: every};
    clock.nextId = clock.nextId + 1;
    clock.timers.push(t);
    return t.id;
  }

  clock.setTimeout = function (fn, ms) { return add(fn, ms, 0); };
  clock.setInterval = function (fn, ms) { return add(fn, ms, Math.max(1, ms)); };
  clock.clearTimeout = function (id) {
    var i;
    for (i = 0; i < clock.timers.length; i++) {
      if (clock.timers[i].id === id) {
        clock.timers.splice(i, 1);
        return;
      }
    }
  };
  // Runs every timer due within `ms`, in time order (ties: the one set first).
  clock.run = function (ms) {
    var until = clock.nowMs + ms;
    var due;
    var i;
    for (;;) {
      due = null;
      for (i = 0; i < clock.timers.length; i++) {
        if (clock.timers[i].at <= until &&
            (due === null || clock.timers[i].at < due.at ||
             (clock.timers[i].at === due.at && clock.timers[i].id < due.id))) {
          due = clock.timers[i];
        }
      }
      if (due === null) {
        break;
      }
      clock.nowMs = Math.max(clock.nowMs, due.at);
      if (due.every) {
        due.at = due.at + due.every;
      } else {
        clock.clearTimeout(due.id);
      }
      due.fn();
    }
    clock.nowMs = until;
  };
  return clock;
}

function copy(object) {
  var out = {};
  var key;
  for (key in object) {
    if (Object.prototype.hasOwnProperty.call(object, key)) {
      out[key] = object[key];
    }
  }
  return out;
}

// The `buttons` module: a press is emitted in every event class the hub fires for it.
function makeButtons() {
  var listeners = {};
  var known = [];
  var api = {};

  function emit(name, event) {
    var list = listeners[name] || [];
    var i;
    for (i = 0; i < list.length; i++) {
      list[i](copy(event));
    }
  }

  api.on = function (name, fn) {
    (listeners[name] = listeners[name] || []).push(fn);
  };
  api.getButtons = function () {
    var out = [];
    var i;
    for (i = 0; i < known.length; i++) {
      out.push(copy(known[i]));
    }
    return out;
  };
  api.getButton = function (bdaddr) {
    var i;
    for (i = 0; i < known.length; i++) {
      if (known[i].bdaddr === String(bdaddr).toLowerCase()) {
        return copy(known[i]);
      }
    }
    return null;
  };
  api.add = function (b) {
    var button = {bdaddr: b.bdaddr, serialNumber: b.serialNumber || "BD00-A00000", color: "white",
      name: b.name, activeDisconnect: false, connected: true, ready: true,
      batteryStatus: b.batteryStatus, firmwareVersion: 10, flicVersion: 2};
    known.push(button);
    emit("buttonAdded", {button: copy(button)});
  };
  // kind: "single" | "double" | "hold"; a queued press passes {wasQueued: true, age: seconds}.
  api.press = function (bdaddr, kind, queued) {
    var base = {bdaddr: bdaddr, wasQueued: !!(queued && queued.wasQueued),
      age: queued && queued.age ? queued.age : 0};
    var full = copy(base);
    var n = kind === "double" ? 2 : 1;
    var i;
    for (i = 0; i < n; i++) {
      emit("buttonDown", base);
      if (kind !== "hold") {
        emit("buttonUp", base);
      }
    }
    full.isSingleClick = kind === "single";
    full.isDoubleClick = kind === "double";
    full.isHold = kind === "hold";
    emit("buttonSingleOrDoubleClickOrHold", full);
    if (kind === "hold") {
      emit("buttonUp", base);
    }
  };
  return api;
}

// The `http` module: while `net.up`, every request is answered 202 after 5 ms; otherwise it
// fails with a plain string error, as the hub's http module reports one.
function makeHttp(clock, net) {
  return {
    makeRequest: function (options, callback) {
      var entry = {at: clock.nowMs, url: options.url, method: options.method,
        headers: copy(options.headers || {}), hex: stringBytesHex(options.content || ""),
        answer: net.up ? 202 : "ECONNREFUSED"};
      net.log.push(entry);
      clock.setTimeout(function () {
        if (entry.answer === 202) {
          callback(null, {statusCode: 202, headers: {}, content: "{\"status\": \"accepted\"}"});
        } else {
          callback(entry.answer, null);
        }
      }, 5);
    }
  };
}

// The `datastore` module; `values` outlives a reboot. Answers come on a later turn.
function makeDatastore(clock, values) {
  return {
    put: function (key, value, callback) {
      values[key] = String(value);
      clock.setTimeout(function () { callback(null); }, 0);
    },
    get: function (key, callback) {
      var value = Object.prototype.hasOwnProperty.call(values, key) ? values[key] : null;
      clock.setTimeout(function () { callback(null, value); }, 0);
    }
  };
}

// Runs files["main.js"]; files maps "x.js" to function (exports, require, module).
function loadModule(files, builtins) {
  var cache = {};

  function load(name) {
    var exportsObject;
    if (Object.prototype.hasOwnProperty.call(cache, name)) {
      return cache[name];
    }
    if (!Object.prototype.hasOwnProperty.call(files, name)) {
      throw new Error("Cannot find module './" + name + "'");
    }
    exportsObject = {};
    cache[name] = exportsObject;
    files[name].call(exportsObject, exportsObject, requireFn, {exports: exportsObject});
    return exportsObject;
  }

  function requireFn(name) {
    var file;
    if (Object.prototype.hasOwnProperty.call(builtins, name)) {
      return builtins[name];
    }
    if (name.substring(0, 2) === "./") {
      file = name.substring(2);
      return load(file.substring(file.length - 3) === ".js" ? file : file + ".js");
    }
    throw new Error("the hub has no module '" + name + "'");
  }

  return load("main.js");
}
