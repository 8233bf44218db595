// The H5 example (examples/h5) in a real browser: Debian's Chromium
// (/usr/bin/chromium, never a downloaded build) driven by playwright-core,
// against `python -m smsverify serve` (in-process store, console SMS).
//
// Each test serves examples/h5 from one loopback port and runs the function
// on another, so the page and the API are on different origins and CORS is
// exercised for real (ALLOWED_ORIGINS = the page's origin). A same-origin
// run (the page server forwards /api/ to the function) proves the page and
// this harness on their own. The SMS code is read from the function's stderr
// (the console provider prints it), as a developer would.
//
// Run: node --test tests/e2e/browser/h5.test.js (pytest runs it: tests/e2e/browser/test_h5.py).
// Environment: SMSVERIFY_PYTHON, the Python with smsverify installed (default .venv/bin/python).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const H5 = path.join(ROOT, 'examples', 'h5');
const PYTHON = process.env.SMSVERIFY_PYTHON || path.join(ROOT, '.venv', 'bin', 'python');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CODE_SECRET = 'code-secret-for-browser-tests-0123456789'; // pragma: allowlist secret
const PHONE = '13800138000';
const E164 = '+8613800138000';
const CONSOLE_SMS = /\[console SMS to (\+\d+)\] 您的验证码为 (\d+)/g;
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const WAIT_MS = 20000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Serve examples/h5 (its files only); with `apiPort`, forward /api/ to the function (same origin). */
async function startPageServer(apiPort) {
  const port = await freePort();
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url, 'http://127.0.0.1');
    if (apiPort && url.pathname.startsWith('/api/')) {
      const upstream = http.request({ host: '127.0.0.1', port: apiPort, path: req.url, method: req.method, headers: req.headers },
        (answer) => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res); });
      upstream.on('error', () => { res.writeHead(502); res.end(); });
      req.pipe(upstream);
      return;
    }
    const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const file = path.join(H5, name);
    if (name.includes('/') || name.includes('\\') || !fs.existsSync(file) || !TYPES[path.extname(file)]) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)], 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(file));
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

function connects(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

/** `python -m smsverify serve` on a free port; its stderr (logs, console SMS) is kept. */
async function startFunction(extraEnv) {
  const port = await freePort();
  const env = { PATH: process.env.PATH, LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1', CODE_SECRET, SMS_PROVIDER: 'console', ...extraEnv };
  const child = spawn(PYTHON, ['-m', 'smsverify', 'serve', '--port', String(port)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const fn = { url: `http://127.0.0.1:${port}/`, port, stderr: '', child, exited: null };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { fn.stderr += chunk; });
  child.stdout.resume();
  child.on('exit', (code) => { fn.exited = code; });
  const deadline = Date.now() + WAIT_MS;
  while (!(await connects(port))) {
    if (fn.exited !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`smsverify serve did not start (exit ${fn.exited}):\n${fn.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fn.codes = () => [...fn.stderr.matchAll(CONSOLE_SMS)].filter((m) => m[1] === E164).map((m) => m[2]);
  fn.close = () => new Promise((resolve) => {
    if (fn.exited !== null) { resolve(); return; }
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  return fn;
}

async function withBrowser(fn) {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'smsverify-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: WAIT_MS
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    return await fn(page);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Click `button`, wait for the answer; return the page's status: { codeStr, text }. */
async function answerOf(page, button) {
  await page.click(button);
  await page.waitForFunction(() => {
    const s = document.getElementById('status');
    return s.className !== 'pending' && s.dataset.codeStr;
  });
  return page.$eval('#status', (s) => ({ codeStr: s.dataset.codeStr, text: s.textContent }));
}

/** The whole flow on the page: send a code, read it from the function's stderr, log in. */
async function loginFlow(page, pageUrl, apiUrl, fn) {
  await page.goto(`${pageUrl}?api=${encodeURIComponent(apiUrl)}`);
  await page.fill('#phone', PHONE);
  const sent = await answerOf(page, '#send');
  assert.equal(sent.codeStr, 'Ok', sent.text);
  const codes = fn.codes();
  assert.equal(codes.length, 1, 'one SMS was sent');
  await page.fill('#code', codes[0]);
  const loggedIn = await answerOf(page, '#login');
  assert.equal(loggedIn.codeStr, 'Success', loggedIn.text);
  assert.equal(await page.isVisible('#token-section'), true);
  assert.match(await page.textContent('#token-note'), /verification is the backend's job/);
  const claims = await page.$eval('#claims', (el) => el.dataset.claims);
  if (claims) { // a function that issues tokens: the decoded claims name the phone
    const payload = JSON.parse(claims);
    assert.equal(payload.phone_number, E164);
    assert.equal(payload.sub, E164);
  } else {
    assert.match(await page.textContent('#claims'), /carries no token/);
  }
  return loggedIn;
}

test('same origin: the H5 page sends a code and logs in (the page server forwards /api/ to serve)', async () => {
  const fn = await startFunction({});
  const site = await startPageServer(fn.port);
  try {
    await withBrowser((page) => loginFlow(page, `${site.origin}/index.html`, `${site.origin}/api/`, fn));
    assert.ok(site.requests.includes('POST /api/'), site.requests.join('\n'));
  } finally {
    await site.close();
    await fn.close();
  }
});

test('cross origin, allowed: the page on one port logs in against serve on another (ALLOWED_ORIGINS)', async () => {
  const site = await startPageServer(null);
  const fn = await startFunction({ ALLOWED_ORIGINS: site.origin });
  try {
    await withBrowser((page) => loginFlow(page, `${site.origin}/index.html`, fn.url, fn));
  } finally {
    await site.close();
    await fn.close();
  }
});

test('cross origin, not allowed: the browser gets no answer to read and no SMS is sent', async () => {
  const site = await startPageServer(null);
  const fn = await startFunction({ ALLOWED_ORIGINS: 'https://h5.example.com' });
  try {
    await withBrowser(async (page) => {
      await page.goto(`${site.origin}/index.html?api=${encodeURIComponent(fn.url)}`);
      await page.fill('#phone', PHONE);
      const refused = await answerOf(page, '#send');
      assert.equal(refused.codeStr, 'NetworkError', refused.text);
      assert.match(refused.text, /ALLOWED_ORIGINS/);
    });
    assert.deepEqual(fn.codes(), [], 'no SMS may be sent for a refused origin');
  } finally {
    await site.close();
    await fn.close();
  }
});

test('the page decodes a token\'s claims for display only (a Success answer stubbed in the browser)', async () => {
  const site = await startPageServer(null);
  const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { iss: 'https://sms.example.com', aud: 'shop', sub: E164, phone_number: E164, phone_number_verified: true,
    amr: ['sms'], scene: 'login', note: '验证码' };
  const token = `${b64url({ alg: 'ES256', typ: 'JWT', kid: 'k1' })}.${b64url(claims)}.c2lnbmF0dXJl`;
  const api = 'http://127.0.0.1:9/stubbed/';
  try {
    await withBrowser(async (page) => {
      const sent = [];
      await page.route(`${api}**`, async (route) => {
        sent.push(JSON.parse(route.request().postData()));
        await route.fulfill({ status: 200, contentType: 'application/json; charset=utf-8',
          headers: { 'Access-Control-Allow-Origin': site.origin },
          body: JSON.stringify({ codeStr: 'Success', msg: '校验验证码成功', requestId: 'r', token, tokenType: 'Bearer', expiresIn: 300 }) });
      });
      await page.goto(`${site.origin}/index.html?api=${encodeURIComponent(api)}`);
      await page.fill('#phone', PHONE);
      await page.fill('#code', '123456');
      await page.fill('#scene', 'login');
      assert.equal((await answerOf(page, '#login')).codeStr, 'Success');
      assert.equal(sent.length, 1);
      assert.match(sent[0].verificationId, /^[A-Za-z0-9_-]{32}$/);
      assert.deepEqual(sent, [{ method: 'login', phone: PHONE, code: '123456', scene: 'login', lang: 'zh-CN',
        verificationId: sent[0].verificationId }]);
      assert.deepEqual(JSON.parse(await page.$eval('#claims', (el) => el.dataset.claims)), claims);
      assert.match(await page.textContent('#claims'), /"alg": "ES256"/);
    });
  } finally {
    await site.close();
  }
});
