// A bounded FIFO of presses waiting for delivery. When it is full, the oldest press that is
// not being sent right now is dropped and remembered until a heartbeat has reported it.
// `onChange` (optional) runs after every change, to save the queue.

var MAX_REPORTED_IDS = 50;

function createQueue(capacity, onChange) {
  var items = [];
  var limit = capacity > 1 ? capacity : 2;
  var unreported = {count: 0, ids: []};
  var droppedTotal = 0;

  function remember(count, ids) {
    unreported.count = unreported.count + count;
    unreported.ids = unreported.ids.concat(ids);
    if (unreported.ids.length > MAX_REPORTED_IDS) {
      unreported.ids = unreported.ids.slice(unreported.ids.length - MAX_REPORTED_IDS);
    }
  }

  function changed() {
    if (onChange) {
      onChange(items);
    }
  }

  function dropOne(busyItem) {
    var victim = items.splice(items[0] === busyItem ? 1 : 0, 1)[0];
    droppedTotal = droppedTotal + 1;
    remember(1, [victim.eventId]);
    return victim;
  }

  // Appends `item`; returns the dropped press, if any. `busyItem` is never dropped.
  function push(item, busyItem) {
    var victim = null;
    if (items.length >= limit) {
      victim = dropOne(busyItem);
    }
    items.push(item);
    changed();
    return victim;
  }

  // Puts presses saved before a restart in front of the newer ones, dropping the oldest
  // beyond capacity; returns how many were dropped.
  function restore(older, busyItem) {
    var dropped = 0;
    items = older.concat(items);
    while (items.length > limit) {
      dropOne(busyItem);
      dropped = dropped + 1;
    }
    changed();
    return dropped;
  }

  function head() {
    return items.length ? items[0] : null;
  }

  function remove(item) {
    var i;
    for (i = 0; i < items.length; i++) {
      if (items[i] === item) {
        items.splice(i, 1);
        changed();
        return true;
      }
    }
    return false;
  }

  // Hands the unreported drops to a heartbeat; give them back if the heartbeat fails.
  function takeDrops() {
    var report = unreported;
    unreported = {count: 0, ids: []};
    return report;
  }

  function returnDrops(report) {
    var newer = unreported;
    unreported = {count: 0, ids: []};
    remember(report.count, report.ids);
    remember(newer.count, newer.ids);
  }

  return {
    push: push,
    restore: restore,
    head: head,
    remove: remove,
    size: function () { return items.length; },
    takeDrops: takeDrops,
    returnDrops: returnDrops,
    droppedTotal: function () { return droppedTotal; }
  };
}

exports.createQueue = createQueue;
