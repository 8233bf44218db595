// The mini-program example (examples/miniprogram) against the real function with captcha on.
//
// The page runs in node with the mini-program globals stood in: Page, getApp, wx.request (real
// HTTP to `python -m smsverify serve` and to the backend example), wx.getRandomValues (node's
// crypto), wx.showToast, and selectComponent('#captcha'), a stand-in for the t-captcha plugin
// component: it exists only if app.json declares the plugin and the page's json/wxml use it, and
// its show() answers through the handler the wxml binds to `verify`, with a ticket the Captcha API
// emulator issued (so the function's DescribeCaptchaResult check passes for real). See stack.js.
//
// Run: node --test tests/e2e/clients/miniprogram.test.js (pytest runs it: tests/e2e/test_miniprogram.py).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { ROOT, CAPTCHA_APP_ID, VERIFICATION_ID, startStack, waitFor } = require('./stack.js');

const EXAMPLE = path.join(ROOT, 'examples', 'miniprogram');
const PAGE = path.join(EXAMPLE, 'pages', 'login', 'login.js');
const PHONE = '13800138000';
const E164 = '+8613800138000';
const PLUGIN_PROVIDER = 'wx1fe8d9a3cb067a75'; // Tencent Cloud Captcha's mini-program plugin

/** The t-captcha element of the page's wxml, as { attribute: value }; asserts the plugin is declared. */
function captchaElement() {
  const app = JSON.parse(fs.readFileSync(path.join(EXAMPLE, 'app.json'), 'utf8'));
  const plugin = Object.entries(app.plugins || {}).find(([, p]) => p.provider === PLUGIN_PROVIDER);
  assert.ok(plugin, 'app.json declares the captcha plugin');
  const pageJson = JSON.parse(fs.readFileSync(path.join(EXAMPLE, 'pages', 'login', 'login.json'), 'utf8'));
  assert.equal(pageJson.usingComponents['t-captcha'], `plugin://${plugin[0]}/t-captcha`);
  const wxml = fs.readFileSync(path.join(EXAMPLE, 'pages', 'login', 'login.wxml'), 'utf8');
  const element = /<t-captcha\b([^>]*)\/>/.exec(wxml);
  assert.ok(element, 'the page wxml uses <t-captcha/>');
  return Object.fromEntries([...element[1].matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/** wx.request over real HTTP: JSON data as the body (GET: none), data parsed like dataType 'json'. */
function wxRequest(sent) {
  return (options) => {
    const method = options.method || 'GET';
    sent.push({ url: options.url, method, header: options.header || {}, data: options.data });
    fetch(options.url, {
      method, headers: options.header || {}, body: method === 'GET' ? undefined : JSON.stringify(options.data)
    }).then(async (response) => {
      const text = await response.text();
      let data = text;
      try { data = JSON.parse(text); } catch (e) { /* left a string, as wx does */ }
      options.success({ statusCode: response.status, header: Object.fromEntries(response.headers), data });
    }, (error) => options.fail({ errMsg: `request:fail ${error.message}` }));
  };
}

/** One page, loaded like the mini-program runtime would, against `stack`. */
function openPage(stack, settings = {}) {
  const world = { sent: [], captchaShows: 0, pending: [] };
  const element = captchaElement();
  const saved = { Page: global.Page, getApp: global.getApp, wx: global.wx };
  let definition = null;
  global.Page = (def) => { definition = def; };
  global.getApp = () => ({ globalData: { smsverifyUrl: stack.fn.url, captchaAppId: CAPTCHA_APP_ID, backendUrl: stack.backend.url,
    smsverifyScene: null, wechatLogin: false, lang: 'zh-CN', ...settings } });
  global.wx = {
    request: wxRequest(world.sent),
    getRandomValues(options) {
      const bytes = crypto.randomBytes(options.length);
      options.success({ randomValues: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) });
    },
    showToast() {}
  };
  delete require.cache[require.resolve(PAGE)];
  require(PAGE);
  const page = Object.create(definition);
  page.data = JSON.parse(JSON.stringify(definition.data));
  page.setData = function (patch) { Object.assign(this.data, patch); };
  page.selectComponent = (selector) => {
    assert.equal(selector, `#${element.id}`);
    assert.equal(element['app-id'], '{{captchaAppId}}');
    assert.equal(page.data.captchaAppId, CAPTCHA_APP_ID, 'the component gets the CaptchaAppId');
    return {
      show() {
        // The user solves the captcha: the plugin fires `verify` with { ret: 0, ticket, randstr }.
        world.captchaShows += 1;
        const { ticket, randstr } = stack.captchaApi.nextTicket();
        setImmediate(() => world.pending.push(page[element.bindverify]({ detail: { ret: 0, ticket, randstr } })));
      }
    };
  };
  page.onLoad({});
  global.Page = saved.Page;
  global.getApp = saved.getApp;
  world.page = page;
  world.functionCalls = () => world.sent.filter((r) => r.url === stack.fn.url).map((r) => r.data);
  /** Run a page handler and everything it set off (the captcha's repeated call). */
  world.tap = async (handler) => {
    await page[handler]();
    while (world.pending.length || world.captchaShows > world.answered) {
      await waitFor(() => world.pending.length, 'the captcha verify event');
      world.answered += 1;
      await world.pending.shift();
    }
  };
  world.answered = 0;
  world.type = (field, value) => page[field === 'phone' ? 'onPhoneInput' : 'onCodeInput']({ detail: { value } });
  world.close = () => { page.onUnload(); global.wx = saved.wx; };
  return world;
}

test('captcha on: CaptchaRequired shows t-captcha, getSms is repeated with its ticket, the code logs in, the backend accepts the token',
  async () => {
    const stack = await startStack({ tickets: 2 });
    let world = null;
    try {
      world = openPage(stack);
      world.type('phone', PHONE);
      await world.tap('onGetSms');
      assert.equal(world.captchaShows, 1);
      assert.equal(world.page.data.message, '验证码已发送，请注意查收短信');
      assert.ok(world.page.data.sendLeft > 50, 'the resend countdown runs from resendAfter');
      const codes = stack.fn.codes(E164);
      assert.equal(codes.length, 1, 'one SMS');

      world.type('code', codes[0]);
      await world.tap('onLogin');
      assert.equal(world.page.data.loggedIn, true, world.page.data.message);
      assert.equal(world.page.data.backendText, `后端已确认登录：${E164}`);
      assert.deepEqual(stack.backend.answers, [{ authorization: 'Bearer', status: 200 }]);

      const calls = world.functionCalls();
      assert.deepEqual(calls.map((c) => [c.method, Boolean(c.ticket)]), [['getSms', false], ['getSms', true], ['login', false]]);
      const id = calls[0].verificationId;
      assert.match(id, VERIFICATION_ID);
      assert.ok(calls.every((c) => c.verificationId === id && c.lang === 'zh-CN'), 'one verificationId for the flow');
      assert.equal(world.captchaShows, 1, 'login needed no captcha');
    } finally {
      if (world) world.close();
      await stack.close();
    }
  });

test('captcha on: devices for the same phone get their own code until the hourly cap, then retryAfter counts down; a wrong code shows attemptsLeft', async () => {
  // The resend interval is per verification: a second device (its own verificationId) is sent its own
  // code. The phone's hourly quota still holds: HOURLY_SEND_LIMIT=1 here, and with captcha on a ticket
  // lifts it up to its hard cap (PHONE_HARD_LIMIT_FACTOR 2 times it), so the third device is refused
  // with retryAfter, without a captcha (no ticket would pass).
  const stack = await startStack({ tickets: 2, env: { HOURLY_SEND_LIMIT: '1' } });
  const pages = [];
  try {
    const first = openPage(stack);
    const second = openPage(stack);
    const third = openPage(stack);
    pages.push(first, second, third);
    first.type('phone', PHONE);
    await first.tap('onGetSms');
    assert.equal(stack.fn.codes(E164).length, 1);

    second.type('phone', PHONE);
    await second.tap('onGetSms');
    assert.equal(second.page.data.message, '验证码已发送，请注意查收短信');
    assert.equal(stack.fn.codes(E164).length, 2, 'the second device is sent its own code');
    assert.notEqual(second.functionCalls()[0].verificationId, first.functionCalls()[0].verificationId, 'each device its own flow');

    third.type('phone', PHONE);
    await third.tap('onGetSms');
    assert.equal(third.captchaShows, 0, 'at the hard cap no ticket would pass: no captcha is shown');
    const page = third.page;
    assert.match(page.data.message, /^该手机号发送次数过多，请 (\d+ 分钟|1 小时)后再试$/);
    assert.ok(page.data.sendLeft > 3500 && page.data.sendLeft <= 3600, `sendLeft ${page.data.sendLeft}`);
    assert.equal(page.data.sendText, `${page.data.sendLeft}s 后重新获取`);
    assert.equal(stack.fn.codes(E164).length, 2, 'the refused device is sent nothing');
    const asked = third.sent.length;
    await third.tap('onGetSms');
    assert.equal(third.sent.length, asked, 'a counting-down button sends nothing');

    const code = stack.fn.codes(E164)[0];
    first.type('code', String((Number(code) + 1) % 1000000).padStart(code.length, '0'));
    await first.tap('onLogin');
    assert.equal(first.page.data.message, '验证码错误，还可尝试 2 次');
    assert.equal(first.page.data.loggedIn, false);
    const calls = first.functionCalls();
    assert.equal(calls.at(-1).verificationId, calls[0].verificationId);
  } finally {
    pages.forEach((world) => world.close());
    await stack.close();
  }
});

test('voice codes: polling says sent, then failed (a FAIL receipt), the voice option is usable at once, the call counts down, the voice code logs in',
  async () => {
    // Tencent SMS and voice codes through the emulator (stack.js, voice: true); the SMS's delivery
    // fails by Tencent's own callback to RECEIPT_PATH. A short poll period keeps the waits short; the
    // page asks for the status by itself (the H5 test taps "未收到？"). The resend interval is long
    // (SEND_INTERVAL) and the test never waits for it: a call inside the SMS's interval is a resend by
    // another route, which the function places at once.
    const SEND_INTERVAL = 60;
    const stack = await startStack({ tickets: 2, voice: true, env: { SEND_INTERVAL_SECONDS: String(SEND_INTERVAL) } });
    let world = null;
    const statusCalls = () => world.functionCalls().filter((c) => c.method === 'status').length;
    const quiet = async (what) => {
      const before = statusCalls();
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(statusCalls(), before, what);
    };
    try {
      world = openPage(stack, { voiceCodes: true });
      world.page.pollMs = 100;
      world.type('phone', PHONE);
      await world.tap('onGetSms');
      assert.equal(world.page.data.message, '验证码已发送，请注意查收短信');
      assert.equal(world.page.data.codeSent, true, '"未收到？" is shown');
      assert.equal(world.page.data.voiceOffered, false, 'no voice option while the resend countdown runs');
      await waitFor(() => world.page.data.deliveryText === '正在发送…', 'the polled status: sent');

      const sms = await stack.tencent.sent(E164);
      assert.equal(sms.length, 1, 'one SMS');
      assert.equal(await stack.tencent.receipt([sms[0].serialNo], 'FAIL'), 200);
      await waitFor(() => world.page.data.deliveryText.startsWith('短信发送失败'), 'the polled status: failed');
      const failedAt = Date.now();
      assert.match(world.page.data.deliveryText, /^短信发送失败，(\d+ 秒|1 分钟)后可重新获取，或试试语音验证码$/);
      assert.ok(world.page.data.sendLeft > 0, 'the SMS\'s resend interval still runs');
      assert.equal(world.page.data.voiceOffered, true, 'the voice option shows at once');
      assert.equal(world.page.data.voiceLeft, 0, 'and is usable at once: no countdown');
      assert.equal(world.page.data.voiceText, '收不到短信？试试语音验证码');
      await quiet('a failed delivery ends the polling');

      await world.tap('onVoice');
      assert.equal(world.page.data.message, '请留意来电，电话将播报验证码');
      const calls = await stack.tencent.voice(E164);
      assert.equal(calls.length, 1, 'one voice call, placed inside the SMS\'s resend interval');
      assert.ok(Date.now() - failedAt < (SEND_INTERVAL - 10) * 1000, 'without waiting for the interval');
      assert.equal((await stack.tencent.sent(E164)).length, 1, 'no second SMS');
      const left = world.page.data.voiceLeft;
      assert.ok(left > SEND_INTERVAL - 10 && left <= SEND_INTERVAL, `the voice button counts resendAfter down from the Ok: ${left}`);
      assert.equal(world.page.data.voiceOffered, true, 'the counting-down voice button stays in view');
      assert.equal(world.page.data.voiceText, `收不到短信？试试语音验证码（${left}s）`);
      const asked = world.sent.length;
      await world.tap('onVoice');
      assert.equal(world.sent.length, asked, 'a counting-down voice button sends nothing');
      await waitFor(() => world.page.data.deliveryText === '正在发送…', 'the polled status of the call');

      world.type('code', calls[0].code);
      await quiet('a typed code ends the polling');
      await world.tap('onLogin');
      assert.equal(world.page.data.loggedIn, true, world.page.data.message);
      assert.equal(world.page.data.backendText, `后端已确认登录：${E164}`);

      const sent = world.functionCalls();
      assert.deepEqual(sent.filter((c) => c.method !== 'status').map((c) => [c.method, c.channel || '', Boolean(c.ticket)]), [
        ['getSms', '', false], ['getSms', '', true], ['getSms', 'voice', false], ['getSms', 'voice', true], ['login', '', false]]);
      assert.ok(statusCalls() >= 3, `status asked ${statusCalls()} times`);
      assert.ok(sent.every((c) => c.verificationId === sent[0].verificationId), 'one verificationId for the flow');
    } finally {
      if (world) world.close();
      await stack.close();
    }
  });
