// The real parts the client flow tests run against, each on a free loopback port:
//
// - the Tencent Cloud API emulator (tests/support/emulators/tencent_cloud.py, standalone mode),
//   which verifies DescribeCaptchaResult like the real Captcha API and prints the captcha
//   tickets it issued: the captcha stand-ins hand those out, so a ticket passes only because
//   the emulator issued it;
// - `python -m smsverify serve` with captcha on (CAPTCHA_APP_ID, CAPTCHA_APP_SECRET_KEY, the
//   Captcha API endpoint = the emulator, CAPTCHA_MODE=always), in-process store, console SMS
//   (the code is read from its stderr) and an ephemeral ES256 token key (its JWKS is served);
// - the backend example (examples/backend-node/backend.js: jose against the function's JWKS).
//
// With `voice: true` the emulator is tests/e2e/clients/tencent_emulator.py instead: the same
// emulator, also serving SendSms and SendCodeVoice, and the function sends through it (Tencent SMS
// and voice codes, VOICE_SDKAPPID) with a delivery-receipt path (RECEIPT_PATH). The stack's
// `tencent` then reads the codes the emulator was asked to send ({ sent(e164), voice(e164) }) and
// POSTs a delivery-status callback to the function ({ receipt(serials, 'SUCCESS' | 'FAIL') }).
//
// Environment: SMSVERIFY_PYTHON, the Python with smsverify installed (default .venv/bin/python).
'use strict';

const net = require('node:net');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { spawn } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PYTHON = process.env.SMSVERIFY_PYTHON || path.join(ROOT, '.venv', 'bin', 'python');
const WAIT_MS = 20000;
const CAPTCHA_APP_ID = '190000000'; // the emulator's defaults
const CAPTCHA_APP_SECRET_KEY = 'captcha-test-key'; // pragma: allowlist secret
const EMULATOR_SECRET_ID = 'AKIDemulatorTESTsecretid0000000000000'; // the standalone emulator's DEFAULT_SECRET_ID
const EMULATOR_SECRET_KEY = 'emulatorTESTsecretkey00000000000'; // pragma: allowlist secret
const CODE_SECRET = 'code-secret-for-client-tests-0123456789'; // pragma: allowlist secret
const TOKEN_ISSUER = 'smsverify-local'; // serve's local defaults
const TOKEN_AUDIENCE = 'smsverify-local';
const CONSOLE_SMS = /\[console SMS to (\+\d+)\] 您的验证码为 (\d+)/g;
const TICKET_LINE = /^captcha_ticket: (\S+) randstr: (\S+)$/gm;
const RECEIPT_PATH = '/sms/receipts/clientsQ7xk2LmP9vT4nW8c'; // a random-looking last segment, as the function demands
/** What a client's verificationId must look like (the function's contract: 22-64 base64url characters). */
const VERIFICATION_ID = /^[A-Za-z0-9_-]{22,64}$/;

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

function connects(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * The emulator, with `tickets` captcha tickets issued: { url, tickets: [{ ticket, randstr }], nextTicket(), close };
 * with `voice`, also { env (the function's variables for Tencent SMS and voice through it), query(command) }.
 */
async function startCaptchaApi(tickets, voice) {
  const args = voice
    ? ['-m', 'tests.e2e.clients.tencent_emulator', '--tickets', String(tickets)]
    : ['-W', 'ignore::RuntimeWarning', '-m', 'tests.support.emulators.tencent_cloud', '--port', '0', '--tickets', String(tickets)];
  const child = spawn(PYTHON, args, { cwd: ROOT, env: { PATH: process.env.PATH, LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`emulator did not start:\n${stderr}`)); }, WAIT_MS);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if ([...stdout.matchAll(TICKET_LINE)].length >= tickets) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`emulator exited with ${code}:\n${stderr}`)); });
  });
  const url = /^url: (\S+)$/m.exec(stdout)[1];
  const issued = [...stdout.matchAll(TICKET_LINE)].map((m) => ({ ticket: m[1], randstr: m[2] }));
  const left = issued.slice();
  const envLine = /^env: (.+)$/m.exec(stdout);
  // Answers to query(): one JSON line each, in order (tencent_emulator.py).
  const waiting = [];
  if (voice) {
    let answers = '';
    child.stdout.removeAllListeners('data');
    child.stdout.on('data', (chunk) => {
      answers += chunk;
      let end;
      while ((end = answers.indexOf('\n')) >= 0) {
        const line = answers.slice(0, end);
        answers = answers.slice(end + 1);
        const next = waiting.shift();
        if (next) next(JSON.parse(line));
      }
    });
  }
  return {
    url,
    env: envLine ? JSON.parse(envLine[1]) : null,
    query: (command) => new Promise((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${JSON.stringify(command)}\n`);
    }),
    tickets: issued,
    nextTicket() {
      const next = left.shift();
      if (!next) throw new Error('the test used more captcha tickets than the emulator issued');
      return next;
    },
    close: () => stop(child)
  };
}

/** `python -m smsverify serve` with captcha on against `captchaApi`: { url, port, codes(e164), close }. */
async function startFunction(captchaApi, extraEnv) {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH, LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1', NO_PROXY: '127.0.0.1,localhost',
    CODE_SECRET, SMS_PROVIDER: 'console',
    CAPTCHA_APP_ID, CAPTCHA_APP_SECRET_KEY, CAPTCHA_API_ENDPOINT: captchaApi.url, CAPTCHA_MODE: 'always',
    TENCENTCLOUD_SECRETID: EMULATOR_SECRET_ID, TENCENTCLOUD_SECRETKEY: EMULATOR_SECRET_KEY,
    ...extraEnv
  };
  const child = spawn(PYTHON, ['-m', 'smsverify', 'serve', '--port', String(port)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const fn = { url: `http://127.0.0.1:${port}/`, port, stderr: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { fn.stderr += chunk; });
  child.stdout.resume();
  const deadline = Date.now() + WAIT_MS;
  while (!(await connects(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`smsverify serve did not start:\n${fn.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  /** The codes sent to `e164` so far, oldest first (the console SMS lines on serve's stderr). */
  fn.codes = (e164) => [...fn.stderr.matchAll(CONSOLE_SMS)].filter((m) => m[1] === e164).map((m) => m[2]);
  fn.close = () => stop(child);
  return fn;
}

/**
 * The backend example on a free port, trusting the function's JWKS: { url (its /me), answers, close }.
 * `answers` records each request it answered: { authorization: 'Bearer' | null, status }.
 */
async function startBackend(fn) {
  const { createBackend } = await import(pathToFileURL(path.join(ROOT, 'examples', 'backend-node', 'backend.js')).href);
  const server = createBackend({ jwksUrl: new URL('/.well-known/jwks.json', fn.url).href, issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE, scene: 'login' });
  const answers = [];
  server.on('request', (request, response) => {
    const scheme = (request.headers.authorization || '').split(' ')[0] || null;
    response.on('finish', () => answers.push({ authorization: scheme, status: response.statusCode }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/me`,
    answers,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); })
  };
}

/** The emulator's records and the receipt callback, for a stack with `voice` (see the top of this file). */
function tencentOf(captchaApi, fn) {
  return {
    /** The SMS the function asked the emulator to send to `e164`: [{ code, serialNo }], oldest first. */
    sent: (e164) => captchaApi.query({ op: 'sent', phone: e164 }),
    /** The voice calls it asked for: [{ code }], oldest first. */
    voice: (e164) => captchaApi.query({ op: 'voice', phone: e164 }),
    /** POST Tencent's delivery-status callback for `serials` to the function's RECEIPT_PATH; resolve with its HTTP status. */
    receipt: async (serials, status) => {
      const { body } = await captchaApi.query({ op: 'callback', serials, status });
      const response = await fetch(new URL(RECEIPT_PATH, fn.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      return response.status;
    }
  };
}

/** All three: { captchaApi, fn, backend, close } (and `tencent` with `voice`, see the top of this file). */
async function startStack({ tickets = 4, env, voice = false } = {}) {
  const captchaApi = await startCaptchaApi(tickets, voice);
  let fn;
  try {
    fn = await startFunction(captchaApi, voice ? { ...captchaApi.env, RECEIPT_PATH, ...env } : env);
    const backend = await startBackend(fn);
    return {
      captchaApi, fn, backend, tencent: voice ? tencentOf(captchaApi, fn) : null,
      close: async () => { await backend.close(); await fn.close(); await captchaApi.close(); }
    };
  } catch (error) {
    if (fn) await fn.close();
    await captchaApi.close();
    throw error;
  }
}

/** Poll `condition` (sync or async) every 20 ms until truthy; fail with `what` after WAIT_MS. */
async function waitFor(condition, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

module.exports = { ROOT, CAPTCHA_APP_ID, VERIFICATION_ID, startStack, waitFor };
