'use strict';
// The hub's `http` module: makeRequest({url, method, headers, content}, cb(err, res)).
// ScriptedHttp holds each request until the test answers it; RealHttp sends it over the
// network (to a real flic-bridge) and can "lose" answers to force the module to retry.
// Errors reach the callback as plain strings, as the hub's http module gives them.

const nodeHttp = require('node:http');

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE']);

function checkOptions(options, callback) {
  if (typeof callback !== 'function') throw new TypeError('makeRequest needs a callback');
  if (!options || typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
    throw new TypeError(`makeRequest needs an http(s) url, got ${options && options.url}`);
  }
  const method = options.method || 'GET';
  if (!METHODS.has(method)) throw new TypeError(`unknown method ${method}`);
  if (options.headers !== undefined && (typeof options.headers !== 'object' || options.headers === null)) {
    throw new TypeError('headers must be an object');
  }
  for (const [k, v] of Object.entries(options.headers || {})) {
    if (typeof v !== 'string') throw new TypeError(`header ${k} must be a string`);
  }
  if (options.content !== undefined && typeof options.content !== 'string') {
    throw new TypeError('content must be a string');
  }
  return method;
}

function response(statusCode, content = '') {
  return { statusCode, statusMessage: nodeHttp.STATUS_CODES[statusCode] || '', headers: {}, content };
}

class ScriptedHttp {
  constructor() {
    this.requests = [];
  }

  makeRequest(options, callback) {
    const method = checkOptions(options, callback);
    let answered = false;
    const answer = (err, res) => {
      if (answered) throw new Error('request answered twice');
      answered = true;
      callback(err, res);
    };
    const req = {
      url: options.url,
      method,
      headers: { ...(options.headers || {}) },
      content: options.content,
      body: options.content === undefined ? undefined : JSON.parse(options.content),
      get answered() { return answered; },
      respond: (status, content = '{}') => answer(null, response(status, content)),
      fail: (message = 'ECONNREFUSED') => answer(String(message), undefined),
      answerRaw: (err, res) => answer(err, res),
    };
    this.requests.push(req);
  }

  /** Requests still waiting for an answer. */
  open() {
    return this.requests.filter((r) => !r.answered);
  }

  /** Requests whose body has the given type ("click", "heartbeat"). */
  ofType(type) {
    return this.requests.filter((r) => r.body && r.body.type === type);
  }
}

class RealHttp {
  constructor() {
    this.inFlight = 0;
    this.loseAnswers = 0;
    this.log = [];
  }

  makeRequest(options, callback) {
    const method = checkOptions(options, callback);
    const url = new URL(options.url);
    const content = options.content === undefined ? '' : options.content;
    const entry = {
      url: options.url, body: content ? JSON.parse(content) : null, status: null, answer: null,
      lost: false, error: null,
    };
    this.log.push(entry);
    this.inFlight++;
    const req = nodeHttp.request({
      host: url.hostname, port: url.port, path: url.pathname + url.search, method,
      headers: { ...(options.headers || {}), 'Content-Length': Buffer.byteLength(content) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        this.inFlight--;
        const text = Buffer.concat(chunks).toString('utf8');
        entry.status = res.statusCode;
        entry.answer = text;
        if (this.loseAnswers > 0) {
          // The bridge got and stored it, but the answer never reaches the hub.
          this.loseAnswers--;
          entry.lost = true;
          callback('connection reset before the answer arrived', undefined);
          return;
        }
        callback(null, response(res.statusCode, text));
      });
    });
    req.on('error', (err) => {
      this.inFlight--;
      entry.error = err.message;
      callback(String(err.message), undefined);
    });
    req.end(content);
  }
}

module.exports = { ScriptedHttp, RealHttp };
