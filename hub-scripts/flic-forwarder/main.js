// flic-forwarder for the Flic Hub SDK: forwards every press to flic-bridge (see README).
// Wiring only; the logic lives in the other files of this module.

// An SDK module the firmware may lack (datastore, hubinfo): null instead of a crash.
function optional(name) {
  try {
    return require(name);
  } catch (e) {
    return null;
  }
}

var hubinfo = optional("hubinfo");

require("./forwarder").start({
  buttons: require("buttons"),
  http: require("http"),
  datastore: optional("datastore"),
  hubSerial: hubinfo && hubinfo.serialNumber ? String(hubinfo.serialNumber) : "",
  config: require("./config"),
  timers: {
    setTimeout: function (fn, ms) { return setTimeout(fn, ms); },
    clearTimeout: function (id) { clearTimeout(id); },
    setInterval: function (fn, ms) { return setInterval(fn, ms); }
  },
  nowMs: function () { return Date.now(); },
  random: function () { return Math.random(); },
  log: function (line) { console.log(line); }
});
