// Event ids minted on the hub: unique across restarts, kept by every retry of a press.

function base36(n) {
  return Math.floor(n).toString(36);
}

// The hub id reduced to characters that are safe in an event id (letters, digits, . _ -).
function idPrefix(hubId) {
  var prefix = String(hubId || "").replace(/[^A-Za-z0-9._-]+/g, "_").substring(0, 40);
  return prefix || "hub";
}

// A function returning "<hub id>-<boot tag>-<counter>"; the boot tag mixes clock and randomness.
function makeIdMinter(hubId, nowMs, random) {
  var prefix = idPrefix(hubId);
  var boot = base36(nowMs) + base36(random() * 1679616);
  var counter = 0;
  return function nextId() {
    counter = counter + 1;
    return prefix + "-" + boot + "-" + counter;
  };
}

exports.idPrefix = idPrefix;
exports.makeIdMinter = makeIdMinter;
