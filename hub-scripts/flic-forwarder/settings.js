// Reads config.js into the values the module uses, with defaults for what is left out.

var HUB_PATH = "/hub/events";

function numberOr(value, fallback) {
  return typeof value === "number" && value > 0 ? value : fallback;
}

function listOr(value, fallback) {
  return value && typeof value.length === "number" ? value : fallback;
}

// The endpoint for a bridge URL given with or without "/hub/events".
function hubEndpoint(bridgeUrl) {
  var url = String(bridgeUrl || "");
  while (url.length && url.charAt(url.length - 1) === "/") {
    url = url.substring(0, url.length - 1);
  }
  if (!url.length) {
    return "";
  }
  if (url.length >= HUB_PATH.length && url.substring(url.length - HUB_PATH.length) === HUB_PATH) {
    return url;
  }
  return url + HUB_PATH;
}

// `hubSerial` (hubinfo.serialNumber) names the hub when config.js leaves hubId empty.
function readSettings(config, hubSerial) {
  var c = config || {};
  return {
    hubUrl: hubEndpoint(c.bridgeUrl),
    token: String(c.token || ""),
    heartbeatMs: numberOr(c.heartbeatSeconds, 60) * 1000,
    hubId: String(c.hubId || hubSerial || "flic-hub"),
    alertUrl: String(c.alertUrl || ""),
    alertOn: listOr(c.alertOn, ["single", "hold"]),
    alertOff: listOr(c.alertOff, ["double"]),
    queueSize: Math.floor(numberOr(c.queueSize, 200)),
    retryMinMs: numberOr(c.retryMinSeconds, 1) * 1000,
    retryMaxMs: numberOr(c.retryMaxSeconds, 30) * 1000,
    timeoutMs: numberOr(c.requestTimeoutSeconds, 15) * 1000
  };
}

exports.hubEndpoint = hubEndpoint;
exports.readSettings = readSettings;
