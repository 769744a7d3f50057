// flic-forwarder settings: edit these in the Hub SDK editor, then restart the module.
// Each setting is its own `exports.x = ...` line, the form every hub module loader reads.

// The bridge's hub endpoint ("/hub/events" is added when the URL does not end with it).
exports.bridgeUrl = "http://192.168.1.20:8381/hub/events";
// The bridge's token: [bridge] token in bridge.toml.
exports.token = "change-me";
// Seconds between heartbeats; the bridge shows the hub offline after three missed ones.
exports.heartbeatSeconds = 60;
// A name for this hub on the bridge's status page; empty: the hub's serial number.
exports.hubId = "";
// Optional, for sites without a bridge: an alert-server inbound URL
// (http://server:8380/inbound/TOKEN). When set, clicks go there instead, in the
// Flic guide's body; alertOn / alertOff choose which clicks send "On" and "Off".
exports.alertUrl = "";
exports.alertOn = ["single", "hold"];
exports.alertOff = ["double"];
// Presses kept while the bridge is unreachable (in the hub's datastore, so they survive a
// reboot); beyond this the oldest is dropped (and reported in the next heartbeat).
exports.queueSize = 200;
// Retry backoff bounds, in seconds.
exports.retryMinSeconds = 1;
exports.retryMaxSeconds = 30;
// A request that has not answered after this many seconds counts as failed.
exports.requestTimeoutSeconds = 15;
