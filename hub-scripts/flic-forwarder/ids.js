// Event ids minted on the hub: unique across restarts, kept by every retry of a press.

function base36(n) {
  return Math.floor(n).toString(36);
}

// A function returning "<hubId>-<boot tag>-<counter>"; the boot tag mixes the clock and randomness.
function makeIdMinter(hubId, nowMs, random) {
  var boot = base36(nowMs) + base36(random() * 1679616);
  var counter = 0;
  return function nextId() {
    counter = counter + 1;
    return hubId + "-" + boot + "-" + counter;
  };
}

exports.makeIdMinter = makeIdMinter;
