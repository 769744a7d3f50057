// http.makeRequest with a deadline: the callback runs exactly once, with an error on timeout.

function requestOnce(http, timers, options, timeoutMs, callback) {
  var done = false;
  var watchdog = null;

  function finish(err, res) {
    if (done) {
      return;
    }
    done = true;
    if (watchdog !== null) {
      timers.clearTimeout(watchdog);
    }
    if (!err && !res) {
      err = new Error("no response");
    }
    callback(err || null, res || null);
  }

  watchdog = timers.setTimeout(function () {
    watchdog = null;
    finish(new Error("no answer within " + timeoutMs + " ms"), null);
  }, timeoutMs);
  try {
    http.makeRequest(options, finish);
  } catch (e) {
    finish(e, null);
  }
}

exports.requestOnce = requestOnce;
