'use strict';
// Runs the real hub module on a simulated hub whose http.makeRequest does real HTTP, driven
// by JSON lines on stdin (one answer line per command on stdout). Used by the end-to-end test:
//   node driver.js '{"config": {...}, "buttons": [...]}'
// Commands: {"cmd": "press", "bdaddr", "kind"}, {"cmd": "advance", "ms"},
// {"cmd": "lose_answers", "n"}, {"cmd": "settle"}, {"cmd": "log"}, {"cmd": "quit"}.

const readline = require('node:readline');
const { startHub } = require('./hub');

const setup = JSON.parse(process.argv[2] || '{}');
const hub = startHub({ config: setup.config || {}, buttons: setup.buttons || [], http: 'real' });

function reply(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Answers once no request of the module is on the wire. */
function settle() {
  if (hub.http.inFlight === 0) {
    reply({ ok: true });
  } else {
    setTimeout(settle, 10);
  }
}

const commands = {
  press: (c) => { hub.buttons.press(c.bdaddr, c.kind); reply({ ok: true }); },
  advance: (c) => { hub.clock.advance(c.ms); reply({ ok: true }); },
  lose_answers: (c) => { hub.http.loseAnswers = c.n; reply({ ok: true }); },
  settle: () => settle(),
  log: () => reply({ requests: hub.http.log, hub_log: hub.logLines }),
  quit: () => { reply({ ok: true }); process.exit(0); },
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let command;
  try {
    command = JSON.parse(line);
  } catch (err) {
    reply({ error: `not JSON: ${err.message}` });
    return;
  }
  const run = commands[command.cmd];
  if (!run) {
    reply({ error: `unknown command ${command.cmd}` });
    return;
  }
  try {
    run(command);
  } catch (err) {
    reply({ error: String(err && err.stack ? err.stack : err) });
  }
}).on('close', () => process.exit(0));
