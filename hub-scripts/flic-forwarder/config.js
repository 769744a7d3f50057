// flic-forwarder settings: edit these in the Hub SDK editor, then restart the module.
module.exports = {
  // The bridge's hub endpoint ("/hub/events" is added when the URL does not end with it).
  bridgeUrl: "http://192.168.1.20:8381/hub/events",
  // The bridge's token: [bridge] token in bridge.toml.
  token: "change-me",
  // Seconds between heartbeats; the bridge shows the hub offline after three missed ones.
  heartbeatSeconds: 60,
  // A name for this hub on the bridge's status page.
  hubId: "flic-hub",
  // Optional, for sites without a bridge: an alert-server inbound URL
  // (http://server:8380/inbound/TOKEN). When set, clicks go there instead, in the
  // Flic guide's body; alertOn / alertOff choose which clicks send "On" and "Off".
  alertUrl: "",
  alertOn: ["single", "hold"],
  alertOff: ["double"],
  // Presses kept in memory while the bridge is unreachable; beyond this the oldest is dropped
  // (and reported in the next heartbeat).
  queueSize: 200,
  // Retry backoff bounds, in seconds.
  retryMinSeconds: 1,
  retryMaxSeconds: 30,
  // A request that has not answered after this many seconds counts as failed.
  requestTimeoutSeconds: 15
};
