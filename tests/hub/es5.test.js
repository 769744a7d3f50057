'use strict';
// Hub firmware differs: every file of the module must parse as plain ES5.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const acorn = require('acorn');

const HUB_SCRIPTS = path.resolve(__dirname, '../../hub-scripts');

function jsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return jsFiles(full);
    return e.name.endsWith('.js') ? [full] : [];
  });
}

function parseEs5(source) {
  return acorn.parse(source, { ecmaVersion: 5, sourceType: 'script' });
}

test('every hub-scripts file parses as ES5', () => {
  const files = jsFiles(HUB_SCRIPTS);
  assert.ok(files.length >= 5, `found ${files.length} files`);
  for (const file of files) {
    assert.doesNotThrow(() => parseEs5(fs.readFileSync(file, 'utf8')),
      `${path.relative(HUB_SCRIPTS, file)} is not ES5`);
  }
});

test('the ES5 check refuses what old hub firmware cannot run', () => {
  for (const source of [
    'var f = (a) => a;', 'let x = 1;', 'const y = 2;', 'var s = `t${1}`;', 'class A {}',
    'var {a} = {a: 1};', 'function g(a = 1) {}',
  ]) {
    assert.throws(() => parseEs5(source), SyntaxError, source);
  }
});

test('the simulated hub offers the ES5 library only, so newer calls fail there as on old firmware', () => {
  const { loadHubModule } = require('./sim/loader');
  const { FakeClock } = require('./sim/clock');
  const { SimButtons } = require('./sim/buttons');
  const { ScriptedHttp } = require('./sim/http');
  const os = require('node:os');
  for (const source of [
    'var a = Object.assign({}, {b: 1});', 'var b = "abc".startsWith("a");',
    'var c = [1].includes(1);', 'var d = new Map();', 'var e = Promise.resolve(1);',
  ]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-es5-'));
    try {
      fs.writeFileSync(path.join(dir, 'main.js'), source);
      assert.doesNotThrow(() => parseEs5(source), 'the syntax alone is ES5');
      assert.throws(() => loadHubModule({
        buttons: new SimButtons(), http: new ScriptedHttp(), clock: new FakeClock(), dir,
      }), /is not a function|is not defined|is not a constructor/, source);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
