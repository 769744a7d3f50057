// Keeps the presses waiting for delivery in the hub's datastore, so a hub reboot or a module
// restart (after editing config.js) does not lose them. Without a datastore: memory only.

var KEY = "flic-forwarder.pending";

function describe(err) {
  return String(err && err.message ? err.message : err);
}

// datastore: the SDK's {put(key, string, cb(err)), get(key, cb(err, string))}, or null.
function createStore(datastore, log) {
  var loaded = false;
  var writing = false;
  var dirty = false;
  var latest = null;

  function write() {
    var text = latest;
    writing = true;
    dirty = false;
    try {
      datastore.put(KEY, text, function (err) {
        writing = false;
        if (err) {
          log("flic-forwarder: could not save the waiting presses (" + describe(err) + ")");
        }
        if (dirty) {
          write();
        }
      });
    } catch (e) {
      writing = false;
      log("flic-forwarder: could not save the waiting presses (" + describe(e) + ")");
    }
  }

  // Saves `text` (the newest state wins; writes never overlap). Before load() has answered
  // nothing is written, so the saved presses are not overwritten before they are read.
  function save(text) {
    latest = text;
    if (!datastore || !loaded) {
      return;
    }
    if (writing) {
      dirty = true;
      return;
    }
    write();
  }

  // Calls back once with the saved list (an array, empty when there is none or it is unreadable).
  function load(callback) {
    var answered = false;
    function finish(list) {
      if (answered) {
        return;
      }
      answered = true;
      loaded = true;
      callback(list);
    }
    if (!datastore) {
      finish([]);
      return;
    }
    try {
      datastore.get(KEY, function (err, text) {
        var list = [];
        if (err) {
          log("flic-forwarder: could not read the saved presses (" + describe(err) + ")");
        } else if (typeof text === "string" && text.length) {
          try {
            list = JSON.parse(text);
          } catch (e) {
            log("flic-forwarder: the saved presses are unreadable, starting empty");
          }
        }
        finish(list instanceof Array ? list : []);
      });
    } catch (e) {
      log("flic-forwarder: could not read the saved presses (" + describe(e) + ")");
      finish([]);
    }
  }

  return {save: save, load: load};
}

exports.createStore = createStore;
