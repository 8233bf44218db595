// The H5 example (examples/h5) with captcha on, in Debian's Chromium (/usr/bin/chromium, never a
// downloaded build) driven by playwright-core, against `python -m smsverify serve` with
// CAPTCHA_MODE=always and the Captcha API emulator (tests/e2e/clients/stack.js).
//
// The page is served from one loopback origin and the function runs on another (ALLOWED_ORIGINS =
// the page's origin, so the CORS preflight is real). The browser's request for Tencent's
// TJCaptcha.js is answered with tests/e2e/clients/TJCaptcha.standin.js (a Playwright route, removed
// once the page has loaded so that the function's CORS preflight answer is the real one), whose
// tickets come from the emulator through the page server. The page server also forwards /me to the backend example, the
// `backend` the page hands the token to.
//
// Run: node --test tests/e2e/browser/h5-captcha.test.js (pytest runs it: tests/e2e/browser/test_h5.py).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { ROOT, CAPTCHA_APP_ID, VERIFICATION_ID, startStack } = require('../clients/stack.js');

const H5 = path.join(ROOT, 'examples', 'h5');
const STANDIN = path.join(ROOT, 'tests', 'e2e', 'clients', 'TJCaptcha.standin.js');
const TJCAPTCHA = 'https://turing.captcha.qcloud.com/TJCaptcha.js';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHONE = '13800138000';
const E164 = '+8613800138000';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const WAIT_MS = 20000;

/** examples/h5's files, the stand-in's ticket source, and /me forwarded to the backend example. */
async function startPageServer(holder) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/__captcha-standin/ticket' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        if (JSON.parse(body || '{}').appId !== CAPTCHA_APP_ID) {
          res.writeHead(400);
          res.end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(holder.stack.captchaApi.nextTicket()));
      });
      return;
    }
    if (url.pathname === '/me') {
      const backend = new URL(holder.stack.backend.url);
      const upstream = http.request({ host: backend.hostname, port: backend.port, path: backend.pathname, method: req.method,
        headers: req.headers }, (answer) => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res); });
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
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); })
  };
}

/**
 * The stack (`env`: more of the function's variables), the page server (its origin allowed by the
 * function) and a browser page on it; `fn(page, world)`.
 */
async function withCaptchaPage(fn, env = {}, { voice = false } = {}) {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  const world = { calls: [], scripts: [] };
  // The function allows the page's origin: the page server starts first, the stack it serves from after.
  const holder = {};
  const pages = await startPageServer(holder);
  let stack = null;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'smsverify-chromium-'));
  let context = null;
  try {
    stack = await startStack({ tickets: 3, voice, env: { ...env, ALLOWED_ORIGINS: pages.origin } });
    holder.stack = stack;
    world.stack = stack;
    world.origin = pages.origin;
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: WAIT_MS });
    /**
     * Load the page with TJCaptcha.js answered by the stand-in. The route is removed once the page
     * has loaded: while any route is set, Playwright answers CORS preflights itself, and the
     * function's own preflight answer is part of what is tested here.
     */
    world.open = async (tab, url) => {
      await context.route(TJCAPTCHA, (route) => {
        world.scripts.push(route.request().url());
        return route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: fs.readFileSync(STANDIN, 'utf8') });
      });
      try {
        await tab.goto(url);
      } finally {
        await context.unroute(TJCAPTCHA);
      }
    };
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('request', (request) => {
      if (request.url() === stack.fn.url && request.method() === 'POST') world.calls.push(JSON.parse(request.postData()));
    });
    const settings = { api: stack.fn.url, captchaAppId: CAPTCHA_APP_ID, backend: '/me', ...(voice ? { voice: '1' } : {}) };
    await world.open(page, `${pages.origin}/index.html?${new URLSearchParams(settings)}`);
    return await fn(page, world);
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await pages.close();
    if (stack) await stack.close();
  }
}

/** Click `button` and wait until the page shows one of `codeStrs` as its final answer. */
async function answer(page, button, codeStrs) {
  await page.click(button);
  await page.waitForFunction((wanted) => {
    const s = document.getElementById('status');
    return s.className !== 'pending' && wanted.includes(s.dataset.codeStr);
  }, codeStrs);
  return page.$eval('#status', (s) => ({ codeStr: s.dataset.codeStr, text: s.textContent }));
}

test('captcha on: CaptchaRequired shows TencentCaptcha, getSms is repeated with its ticket, the code logs in, the backend accepts the token',
  async () => {
    await withCaptchaPage(async (page, world) => {
      await page.fill('#phone', PHONE);
      const sent = await answer(page, '#send', ['Ok', 'CaptchaFailed', 'CaptchaClosed', 'NetworkError']);
      assert.equal(sent.codeStr, 'Ok', sent.text);
      assert.deepEqual(world.scripts, [TJCAPTCHA], 'the page loads Tencent\'s script (answered by the stand-in)');
      assert.deepEqual(await page.evaluate(() => window.captchaStandin.shows.map((s) => s.appId)), [CAPTCHA_APP_ID]);
      assert.ok(Number(await page.getAttribute('#send', 'data-left')) > 50, 'the resend countdown runs from resendAfter');
      assert.equal(await page.isDisabled('#send'), true);
      const codes = world.stack.fn.codes(E164);
      assert.equal(codes.length, 1, 'one SMS');

      await page.fill('#code', codes[0]);
      const loggedIn = await answer(page, '#login', ['Success', 'CodeIsError', 'CodeHasExpired', 'NetworkError']);
      assert.equal(loggedIn.codeStr, 'Success', loggedIn.text);
      await page.waitForFunction(() => document.getElementById('backend').dataset.status);
      assert.equal(await page.getAttribute('#backend', 'data-phone'), E164);
      assert.deepEqual(world.stack.backend.answers, [{ authorization: 'Bearer', status: 200 }]);

      assert.deepEqual(world.calls.map((c) => [c.method, Boolean(c.ticket && c.randstr)]),
        [['getSms', false], ['getSms', true], ['login', false]]);
      const id = world.calls[0].verificationId;
      assert.match(id, VERIFICATION_ID);
      assert.ok(world.calls.every((c) => c.verificationId === id && c.lang === 'zh-CN'), 'one verificationId for the flow');
      // Chromium's preflight is not a page request; serve's access log shows it.
      assert.match(world.stack.fn.stderr, /OPTIONS \/ HTTP\/1\.1\S*" 204/, 'the JSON POST went through a CORS preflight'); // werkzeug colours it
    });
  });

test('captcha on: new flows for the same phone get their own code until the hourly cap, then retryAfter counts down; a wrong code shows attemptsLeft', async () => {
  // The resend interval is per verification: another tab (a new page: a new flow, a fresh captcha) is
  // sent its own code. The phone's hourly quota still holds: HOURLY_SEND_LIMIT=1 here, and with captcha
  // on a ticket lifts it up to its hard cap (PHONE_HARD_LIMIT_FACTOR 2 times it), so a third tab is
  // refused with retryAfter, without a captcha (no ticket would pass).
  await withCaptchaPage(async (page, world) => {
    await page.fill('#phone', PHONE);
    assert.equal((await answer(page, '#send', ['Ok', 'CaptchaFailed', 'NetworkError'])).codeStr, 'Ok');
    const code = world.stack.fn.codes(E164)[0];

    const tab = async () => {
      const other = await page.context().newPage();
      other.setDefaultTimeout(WAIT_MS);
      await world.open(other, page.url());
      await other.fill('#phone', PHONE);
      return other;
    };
    const second = await tab();
    const sent = await answer(second, '#send', ['Ok', 'TooFrequent', 'HourlyLimitExceeded', 'CaptchaFailed', 'NetworkError']);
    assert.equal(sent.codeStr, 'Ok', sent.text);
    assert.equal(world.stack.fn.codes(E164).length, 2, 'the second tab is sent its own code');

    const third = await tab();
    const refused = await answer(third, '#send', ['Ok', 'HourlyLimitExceeded', 'CaptchaFailed', 'NetworkError']);
    assert.equal(refused.codeStr, 'HourlyLimitExceeded', refused.text);
    assert.match(refused.text, /请 (\d+ 分钟|1 小时)后再试$/);
    assert.deepEqual(await third.evaluate(() => window.captchaStandin.shows.length), 0, 'at the hard cap no ticket would pass');
    const left = Number(await third.getAttribute('#send', 'data-left'));
    assert.ok(left > 3500 && left <= 3600, `counting down from retryAfter: ${left}`);
    assert.equal(await third.isDisabled('#send'), true);
    assert.match(await third.textContent('#send'), /^\d+s$/);
    assert.equal(world.stack.fn.codes(E164).length, 2, 'the refused tab is sent nothing');

    await page.fill('#code', String((Number(code) + 1) % 1000000).padStart(code.length, '0'));
    const wrong = await answer(page, '#login', ['CodeIsError', 'Success', 'NetworkError']);
    assert.equal(wrong.text, '验证码错误，还可尝试 2 次');
    const mine = world.calls.filter((c) => c.verificationId === world.calls[0].verificationId);
    assert.deepEqual(mine.map((c) => c.method), ['getSms', 'getSms', 'login'], 'the login reused the flow\'s id');
    assert.equal(new Set(world.calls.map((c) => c.verificationId)).size, 1, 'the other tab is not recorded here');
  }, { HOURLY_SEND_LIMIT: '1' });
});

test('captcha on, voice codes: "未收到？" says sent, a failed SMS makes the voice option usable at once, the call counts down, the voice code logs in',
  async () => {
    // Tencent SMS and voice codes through the emulator (stack.js, voice: true); the page has ?voice=1.
    // The SMS's delivery fails by Tencent's own callback to RECEIPT_PATH. The resend interval is long
    // (SEND_INTERVAL) and the test never waits for it: a call inside the SMS's interval is a resend by
    // another route, which the function places at once.
    const SEND_INTERVAL = 60;
    await withCaptchaPage(async (page, world) => {
      // The page also polls every 5 s: wait for the state this step expects, whoever asked.
      const delivery = async (state) => {
        await page.click('#not-received');
        await page.waitForFunction((wanted) => document.getElementById('delivery').dataset.delivery === wanted, state);
        const shown = await page.$eval('#delivery', (el) => ({ state: el.dataset.delivery, text: el.textContent }));
        await page.$eval('#delivery', (el) => { el.dataset.delivery = ''; });
        return shown;
      };
      await page.fill('#phone', PHONE);
      assert.equal(await page.isHidden('#delivery-row'), true, 'nothing to ask before a code went out');
      assert.equal((await answer(page, '#send', ['Ok', 'CaptchaFailed', 'NetworkError'])).codeStr, 'Ok');
      assert.equal(await page.textContent('#not-received'), '未收到？');
      assert.equal(await page.isHidden('#voice'), true, 'no voice option while the resend countdown runs');
      assert.deepEqual(await delivery('sent'), { state: 'sent', text: '正在发送…' });
      assert.equal(await page.isHidden('#voice'), true, 'still no voice option: the countdown runs');

      const sms = await world.stack.tencent.sent(E164);
      assert.equal(sms.length, 1, 'one SMS');
      assert.equal(await world.stack.tencent.receipt([sms[0].serialNo], 'FAIL'), 200);
      const failed = await delivery('failed');
      const failedAt = Date.now();
      assert.match(failed.text, /^短信发送失败，(\d+ 秒|1 分钟)后可重新获取，或试试语音验证码$/);
      assert.ok(Number(await page.getAttribute('#send', 'data-left')) > 0, 'the SMS\'s resend interval still runs');
      // Right after the failed status, no waiting: shown, enabled, no seconds.
      assert.deepEqual(await page.$eval('#voice', (el) => ({ hidden: el.hidden, disabled: el.disabled, text: el.textContent,
        left: el.dataset.left })), { hidden: false, disabled: false, text: '收不到短信？试试语音验证码', left: '0' });

      const voice = await answer(page, '#voice', ['Ok', 'CaptchaFailed', 'InValidParam', 'NetworkError']);
      assert.deepEqual(voice, { codeStr: 'Ok', text: '请留意来电，电话将播报验证码' });
      const calls = await world.stack.tencent.voice(E164);
      assert.equal(calls.length, 1, 'one voice call, placed inside the SMS\'s resend interval');
      assert.ok(Date.now() - failedAt < (SEND_INTERVAL - 10) * 1000, 'without waiting for the interval');
      assert.equal((await world.stack.tencent.sent(E164)).length, 1, 'no second SMS');
      const left = Number(await page.getAttribute('#voice', 'data-left'));
      assert.ok(left > SEND_INTERVAL - 10 && left <= SEND_INTERVAL, `the voice button counts resendAfter down from the Ok: ${left}`);
      assert.equal(await page.isHidden('#voice'), false, 'the counting-down voice button stays in view');
      assert.equal(await page.isDisabled('#voice'), true);
      assert.match(await page.textContent('#voice'), /^收不到短信？试试语音验证码（\d+s）$/);
      assert.deepEqual(await delivery('sent'), { state: 'sent', text: '正在发送…' });

      await page.fill('#code', calls[0].code);
      const loggedIn = await answer(page, '#login', ['Success', 'CodeIsError', 'CodeHasExpired', 'NetworkError']);
      assert.equal(loggedIn.codeStr, 'Success', loggedIn.text);
      await page.waitForFunction(() => document.getElementById('backend').dataset.status);
      assert.equal(await page.getAttribute('#backend', 'data-phone'), E164);
      assert.equal(await page.isHidden('#delivery-row'), true);

      const asked = world.calls.filter((c) => c.method !== 'status').map((c) => [c.method, c.channel || '', Boolean(c.ticket)]);
      assert.deepEqual(asked, [['getSms', '', false], ['getSms', '', true], ['getSms', 'voice', false], ['getSms', 'voice', true],
        ['login', '', false]]);
      assert.ok(world.calls.every((c) => c.verificationId === world.calls[0].verificationId), 'one verificationId for the flow');
    }, { SEND_INTERVAL_SECONDS: String(SEND_INTERVAL) }, { voice: true });
  });
