// flic-forwarder for the Flic Hub SDK: forwards every press to flic-bridge (see README).
// Wiring only; the logic lives in the other files of this module.
require("./forwarder").start({
  buttons: require("buttons"),
  http: require("http"),
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
