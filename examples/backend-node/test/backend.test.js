// The example backend against a live `python -m smsverify serve` on a free loopback port.
//
// getSms -> the code read from serve's stderr (console SMS) -> login -> token -> the backend,
// fetching the function's JWKS over HTTP, accepts it; the same token with one claim changed, a
// token signed by another key, an expired one, one for another audience and one of another scene
// are refused with the reason.
//
// The function signs with a P-256 key made here (TOKEN_PRIVATE_KEY), so the test can also sign
// well-formed tokens that are wrong in one respect only (expired, other audience, other scene).
// Python: $SMSVERIFY_PYTHON, else the repository's .venv, else python3.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SignJWT, decodeProtectedHeader, exportPKCS8, generateKeyPair } from 'jose';

import { createBackend, jwksUrlOf } from '../backend.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const VENV_PYTHON = join(ROOT, '.venv', 'bin', 'python');
const PYTHON = process.env.SMSVERIFY_PYTHON || (existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3');
const ISSUER = 'https://sms.example.test';
const AUDIENCE = 'example-backend';
const CONSOLE_SMS = /\[console SMS to (\+\d+)\] 您的验证码为 (\d+)/;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

let fn; // the function: { url, process, stderr, privateKey }
let backends = [];

async function startFunction() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const port = await freePort();
  // Only what serve needs: no Redis or SMS settings (in-process store, console SMS), not SCF.
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/tmp',
    TOKEN_PRIVATE_KEY: await exportPKCS8(privateKey),
    TOKEN_ISSUER: ISSUER,
    TOKEN_AUDIENCE: AUDIENCE,
  };
  const child = spawn(PYTHON, ['-m', 'smsverify', 'serve', '--port', String(port)], { cwd: ROOT, env });
  const state = { url: `http://127.0.0.1:${port}`, process: child, stderr: '', privateKey };
  child.stderr.setEncoding('utf8');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${state.stderr}`)), 30_000);
    child.stderr.on('data', (chunk) => {
      state.stderr += chunk;
      if (state.stderr.includes('serving on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${state.stderr}`));
    });
  });
  // Werkzeug prints its banner before it accepts: wait until the JWKS answers.
  for (let i = 0; ; i += 1) {
    try {
      const response = await fetch(`${state.url}/.well-known/jwks.json`);
      if (response.ok) break;
    } catch (error) {
      if (i > 100) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return state;
}

async function call(params) {
  const response = await fetch(`${fn.url}/?${new URLSearchParams(params)}`);
  return response.json();
}

async function consoleCode(phone) {
  for (let i = 0; i < 100; i += 1) {
    const codes = fn.stderr.split('\n').map((line) => CONSOLE_SMS.exec(line)).filter((m) => m && m[1] === phone);
    if (codes.length) return codes.at(-1)[2];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no console SMS on serve\'s stderr');
}

async function backendFor(options = {}) {
  const server = createBackend({
    jwksUrl: `${fn.url}/.well-known/jwks.json`, issuer: ISSUER, audience: AUDIENCE, ...options,
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  backends.push(server);
  return `http://127.0.0.1:${server.address().port}/me`;
}

async function ask(backendUrl, token) {
  const response = await fetch(backendUrl, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

async function signed(claims, key, kid) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid }).sign(key);
}

describe('the Node backend trusts only genuine tokens of the live function', () => {
  let token;
  let loginBackend;

  before(async () => {
    fn = await startFunction();
    const sent = await call({ method: 'getSms', phone: '13800138000' });
    assert.equal(sent.codeStr, 'Ok', JSON.stringify(sent));
    const code = await consoleCode('+8613800138000');
    const login = await call({ method: 'login', phone: '13800138000', code });
    assert.equal(login.codeStr, 'Success', JSON.stringify(login));
    assert.equal(login.tokenType, 'Bearer');
    assert.equal(login.expiresIn, 300);
    token = login.token;
    loginBackend = await backendFor({ scene: 'login' });
  });

  after(() => {
    for (const server of backends) server.close();
    backends = [];
    fn?.process.kill('SIGTERM');
  });

  test('accepts the token of a real login and says who logged in', async () => {
    assert.deepEqual(await ask(loginBackend, token), { status: 200, body: { phone: '+8613800138000', scene: 'login' } });
    assert.equal((await ask(await backendFor(), token)).status, 200); // scene login by default
  });

  test('finds the JWKS under the base path of the function URL (an API Gateway stage)', async () => {
    const gateway = 'https://service-abc.gz.apigw.tencentcs.com';
    assert.equal(jwksUrlOf(`${gateway}/release/sms`), `${gateway}/release/sms/.well-known/jwks.json`);
    assert.equal(jwksUrlOf(`${gateway}/release/?x=1#y`), `${gateway}/release/.well-known/jwks.json`);
    assert.equal(jwksUrlOf(gateway), `${gateway}/.well-known/jwks.json`);
    // Live: serve answers the JWKS under any path, as the gateway's stage path would reach it.
    const staged = await backendFor({ jwksUrl: jwksUrlOf(`${fn.url}/release/sms`) });
    assert.deepEqual(await ask(staged, token), { status: 200, body: { phone: '+8613800138000', scene: 'login' } });
  });

  test('refuses a missing token', async () => {
    assert.deepEqual(await ask(loginBackend, undefined), { status: 401, body: { error: 'missing_token' } });
  });

  test('refuses the token with one claim changed', async () => {
    const [header, , signature] = token.split('.');
    const forged = { ...claimsOf(token), phone_number: '+8613900139000', sub: '+8613900139000' };
    const tampered = [header, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');
    assert.deepEqual(await ask(loginBackend, tampered), { status: 401, body: { error: 'signature' } });
  });

  test('refuses a token signed by another key, under its own kid or ours', async () => {
    const { privateKey: other } = await generateKeyPair('ES256');
    const { kid } = decodeProtectedHeader(token);
    assert.deepEqual(await ask(loginBackend, await signed(claimsOf(token), other, kid)), { status: 401, body: { error: 'signature' } });
    assert.deepEqual(await ask(loginBackend, await signed(claimsOf(token), other, 'another-kid')), { status: 401, body: { error: 'signature' } });
  });

  test('refuses an expired token: one signed by the function key, and the real one later', async () => {
    const { kid } = decodeProtectedHeader(token);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signed({ ...claimsOf(token), iat: now - 400, exp: now - 100 }, fn.privateKey, kid);
    assert.deepEqual(await ask(loginBackend, expired), { status: 401, body: { error: 'expired' } });
    const later = await backendFor({ scene: 'login', now: () => new Date(Date.now() + 331_000) });
    assert.deepEqual(await ask(later, token), { status: 401, body: { error: 'expired' } });
  });

  test('refuses a token for another audience', async () => {
    const { kid } = decodeProtectedHeader(token);
    const elsewhere = await signed({ ...claimsOf(token), aud: 'another-backend' }, fn.privateKey, kid);
    assert.deepEqual(await ask(loginBackend, elsewhere), { status: 401, body: { error: 'audience' } });
    const otherBackend = await backendFor({ audience: 'another-backend' });
    assert.deepEqual(await ask(otherBackend, token), { status: 401, body: { error: 'audience' } });
  });

  test('refuses a token of another scene', async () => {
    const { kid } = decodeProtectedHeader(token);
    const register = await signed({ ...claimsOf(token), scene: 'register' }, fn.privateKey, kid);
    assert.deepEqual(await ask(loginBackend, register), { status: 401, body: { error: 'scene' } });
    const resetPassword = await backendFor({ scene: 'resetPassword' });
    assert.deepEqual(await ask(resetPassword, token), { status: 401, body: { error: 'scene' } });
  });

  test('refuses alg none and HS256', async () => {
    const claims = Buffer.from(JSON.stringify(claimsOf(token))).toString('base64url');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${claims}.`;
    assert.equal((await ask(loginBackend, none)).status, 401);
    const hs = await new SignJWT(claimsOf(token)).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32).fill(7));
    assert.deepEqual(await ask(loginBackend, hs), { status: 401, body: { error: 'algorithm' } });
  });
});
