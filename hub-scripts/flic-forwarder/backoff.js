// Retry delays: pure, so the tests can check them without a clock.

// Delay in ms before retry number `attempt` (1 = first retry): doubling from minMs up to maxMs,
// shortened by up to 20 % with `random` (0..1) so hubs that lost the bridge together spread out.
function retryDelayMs(attempt, minMs, maxMs, random) {
  var delay = minMs;
  var i;
  for (i = 1; i < attempt && delay < maxMs; i++) {
    delay = delay * 2;
  }
  if (delay > maxMs) {
    delay = maxMs;
  }
  return Math.round(delay * (1 - 0.2 * random));
}

// How to treat an answer: "done" (delivered or a duplicate), "retry" or "reject" (never retry).
function classifyAnswer(err, statusCode) {
  if (err || !statusCode) {
    return "retry";
  }
  if (statusCode >= 200 && statusCode < 300) {
    return "done";
  }
  // 401/403/404: a wrong token or URL that the installer will fix; keep the presses meanwhile.
  if (statusCode === 401 || statusCode === 403 || statusCode === 404 ||
      statusCode === 408 || statusCode === 429 || statusCode >= 500) {
    return "retry";
  }
  return "reject";
}

exports.retryDelayMs = retryDelayMs;
exports.classifyAnswer = classifyAnswer;
