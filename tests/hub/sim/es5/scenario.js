// The scenario both engines run (after sdk.js and the module's files, HUB_FILES): presses of
// buttons named outside ASCII and the BMP, a queued press, an outage, and a hub reboot with
// presses still waiting. Prints one "REQUEST {json}" line per request the module made.

var clock = makeClock(Date.UTC(2026, 10, 26, 7, 0, 0));
var net = {up: true, log: []};
var savedValues = {};
var logLines = [];
var seed = 12345;
var buttons = null;

// The hub's globals, driven by the virtual clock.
var setTimeout = function (fn, ms) { return clock.setTimeout(fn, ms); };
var clearTimeout = function (id) { clock.clearTimeout(id); };
var setInterval = function (fn, ms) { return clock.setInterval(fn, ms); };
var clearInterval = function (id) { clock.clearTimeout(id); };
var console = {log: function (line) { logLines.push(String(line)); }};
Date.now = function () { return clock.nowMs; };
Math.random = function () {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

var KITCHEN = "80:e4:da:71:23:45";
var LOBBY = "80:e4:da:71:99:01";
var STORE = "80:e4:da:71:00:03";

function boot() {
  var i;
  var name99 = "";
  for (i = 0; i < 99; i++) {
    name99 = name99 + "x";
  }
  buttons = makeButtons();
  buttons.add({bdaddr: KITCHEN, name: "K\u00fcche \ud83d\ude00", batteryStatus: 87});
  // The emoji's two halves sit at 99 and 100: a cut at 100 characters would split it.
  buttons.add({bdaddr: LOBBY, name: name99 + "\ud83d\ude00", batteryStatus: 12});
  buttons.add({bdaddr: STORE, name: "Lager \ud800 T\u00fcr", batteryStatus: 50});
  loadModule(HUB_FILES, {
    buttons: buttons,
    http: makeHttp(clock, net),
    datastore: makeDatastore(clock, savedValues),
    hubinfo: {serialNumber: "LR0A1B2C3D", firmwareVersion: "4.3.2"}
  });
}

boot();
clock.run(1000);
buttons.press(KITCHEN, "single");
clock.run(1000);
buttons.press(LOBBY, "double", {wasQueued: true, age: 12});
clock.run(1000);
buttons.press(STORE, "hold");
clock.run(1000);

// The bridge goes away; two presses wait on the hub, then the hub reboots.
net.up = false;
buttons.press(KITCHEN, "hold");
clock.run(300);
buttons.press(LOBBY, "single");
clock.run(5000);
clock.timers = [];
clock.run(20000);
net.up = true;
boot();
clock.run(10000);
buttons.press(KITCHEN, "single");
clock.run(70000);

var r;
for (r = 0; r < net.log.length; r++) {
  emitLine("REQUEST " + JSON.stringify(net.log[r]));
}
emitLine("END " + ENGINE + " " + net.log.length);
