// Tests of pages/login/login.js with the mini-program globals stubbed
// (Page, getApp, wx) and a fake clock and interval (no real timers).
//
// Proves: the page shows the utility's message for every recorded outcome;
// the send button counts down from resendAfter / retryAfter and re-enables
// when the time is up; VerifyLimitExceeded locks the login button; a button
// in its countdown sends nothing; a successful login clears the code; the
// interval stops when nothing counts down and on unload.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');

const smsverify = require('../utils/smsverify.js');

const PAGE = path.join(__dirname, '..', 'pages', 'login', 'login.js');
const FIXTURES = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'responses.json'), 'utf8'));
const BASE_URL = 'https://service-test-1250000000.gz.apigw.tencentcs.com/release/sms';
const START = 1795000000000;
const CAPTCHA_APP_ID = '190000000';

function scenario(name) {
  const found = FIXTURES.scenarios.find((s) => s.name === name);
  assert.ok(found, `no recorded scenario ${name}`);
  return found;
}

/** The stubbed world of one page: wx.request answers from a queue of scenarios. */
function harness(globalData) {
  const world = { now: START, intervals: new Map(), nextId: 1, requests: [], answers: [], toasts: [] };
  const saved = { Page: global.Page, getApp: global.getApp, wx: global.wx, setInterval: global.setInterval,
    clearInterval: global.clearInterval, dateNow: Date.now };
  let definition = null;
  global.Page = (def) => { definition = def; };
  global.getApp = () => ({ globalData: Object.assign({ smsverifyUrl: BASE_URL, captchaAppId: CAPTCHA_APP_ID }, globalData || {}) });
  global.wx = {
    request(options) {
      world.requests.push(options);
      const answer = world.answers.shift();
      assert.ok(answer, 'the page sent a request the test did not expect');
      if (answer === 'fail') {
        options.fail({ errMsg: 'request:fail' });
      } else {
        const { statusCode, header, data } = answer.response;
        options.success({ statusCode, header: { ...header }, data: JSON.parse(JSON.stringify(data)) });
      }
    },
    showToast(options) { world.toasts.push(options.title); },
    getRandomValues(options) {
      const bytes = crypto.randomBytes(options.length);
      options.success({ randomValues: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) });
    },
    login(options) { world.wxLogins = (world.wxLogins || 0) + 1; options.success({ code: '{wx code}' }); }
  };
  global.setInterval = (fn, ms) => { const id = world.nextId++; world.intervals.set(id, { fn, ms }); return id; };
  global.clearInterval = (id) => { world.intervals.delete(id); };
  Date.now = () => world.now;

  delete require.cache[require.resolve(PAGE)];
  require(PAGE);
  const page = Object.create(definition);
  page.data = JSON.parse(JSON.stringify(definition.data));
  page.setData = function (patch) { Object.assign(this.data, patch); };
  // The t-captcha plugin component: the page only calls show(); the test answers through the page's bind handlers.
  world.captchaShows = 0;
  page.selectComponent = (selector) => {
    assert.equal(selector, '#captcha');
    assert.ok(page.data.captchaAppId, 't-captcha is rendered only with a captchaAppId (wx:if)');
    return { show() { world.captchaShows += 1; } };
  };
  page.onLoad({});

  world.page = page;
  world.restore = () => {
    global.Page = saved.Page; global.getApp = saved.getApp; global.wx = saved.wx;
    global.setInterval = saved.setInterval; global.clearInterval = saved.clearInterval; Date.now = saved.dateNow;
  };
  /** Move the fake clock by `seconds`, firing the page's interval once per elapsed second. */
  world.advance = (seconds) => {
    for (let i = 0; i < seconds; i++) {
      world.now += 1000;
      for (const { fn } of [...world.intervals.values()]) fn();
    }
  };
  world.type = (phone, code) => {
    page.onPhoneInput({ detail: { value: phone } });
    if (code !== undefined) page.onCodeInput({ detail: { value: code } });
  };
  return world;
}

/** `data` with a well-formed verificationId replaced by the fixtures' placeholder. */
function withPlaceholder(data) {
  assert.match(data.verificationId, /^[A-Za-z0-9_-]{32}$/);
  return { ...data, verificationId: '{verification id}' };
}

function withPage(fn, globalData) {
  return async () => {
    const world = harness(globalData);
    try {
      await fn(world, world.page);
    } finally {
      world.restore();
    }
  };
}

test('getSms Ok: the send button counts down resendAfter on the fake clock, then re-enables', withPage(async (world, page) => {
  world.type('13800138000');
  world.answers.push(scenario('getSms_ok'));
  await page.onGetSms();
  assert.equal(world.requests.length, 1);
  assert.equal(world.requests[0].url, BASE_URL);
  assert.equal(page.data.message, '验证码已发送，请注意查收短信');
  assert.equal(page.data.messageType, 'info');
  assert.equal(page.data.sendLeft, 60);
  assert.equal(page.data.sendText, '60s 后重新获取');
  assert.equal(world.intervals.size, 1);
  assert.equal([...world.intervals.values()][0].ms, 1000);

  world.advance(1);
  assert.equal(page.data.sendText, '59s 后重新获取');
  await page.onGetSms(); // tapping during the countdown sends nothing
  assert.equal(world.requests.length, 1);

  world.advance(58);
  assert.equal(page.data.sendLeft, 1);
  world.advance(1);
  assert.equal(page.data.sendLeft, 0);
  assert.equal(page.data.sendText, '获取验证码');
  assert.equal(world.intervals.size, 0, 'the interval stops when nothing counts down');
}));

test('TooFrequent: the countdown starts from retryAfter', withPage(async (world, page) => {
  world.type('13800138000');
  world.answers.push(scenario('getSms_too_frequent'));
  await page.onGetSms();
  assert.equal(page.data.sendLeft, 45);
  assert.equal(page.data.message, '发送过于频繁，请 45 秒后再试');
  assert.equal(page.data.messageType, 'error');
}));

test('a provider daily limit counts down to midnight in China', withPage(async (world, page) => {
  world.type('13800138000');
  world.answers.push(scenario('tencent_daily_limit'));
  await page.onGetSms();
  assert.equal(page.data.sendLeft, 17600);
  assert.equal(world.intervals.size, 1);
  assert.equal(page.data.message, '该手机号今日获取验证码次数已达上限，请 4 小时 54 分钟后再试');
}));

test('VerifyLimitExceeded locks the login button for retryAfter, and a locked button sends nothing', withPage(async (world, page) => {
  world.type('13800138000', '123456');
  world.answers.push(scenario('login_verify_limit'));
  await page.onLogin();
  assert.equal(page.data.loginLeft, 17600);
  assert.equal(page.data.loginText, '4 小时 54 分钟后可重试');
  assert.equal(page.data.sendLeft, 0, 'the send button is not locked by a login limit');
  await page.onLogin();
  assert.equal(world.requests.length, 1);
  world.advance(17600);
  assert.equal(page.data.loginLeft, 0);
  assert.equal(page.data.loginText, '登录');
}));

test('a successful login clears the code, marks the page logged in and shows a toast', withPage(async (world, page) => {
  world.type('13800138000', '{sms code}');
  world.answers.push(scenario('login_success'));
  await page.onLogin();
  assert.deepEqual(withPlaceholder(world.requests[0].data), scenario('login_success').request.data);
  assert.equal(page.data.loggedIn, true);
  assert.equal(page.data.code, '');
  assert.equal(page.data.messageType, 'success');
  assert.deepEqual(world.toasts, ['登录成功']);
}));

test('with wechatLogin and a scene, a login sends the wx.login code and the scene', withPage(async (world, page) => {
  world.type('13800138011', '{sms code}');
  world.answers.push(scenario('login_wechat_high_risk'));
  await page.onLogin();
  assert.equal(world.wxLogins, 1);
  assert.deepEqual(withPlaceholder(world.requests[0].data), { ...scenario('login_wechat_high_risk').request.data, scene: 'login' });
  assert.equal(page.data.message, '当前微信账号存在风险，暂无法登录');
  assert.equal(page.data.code, '{sms code}', 'a WeChat refusal keeps the SMS code: it was not consumed');
  world.answers.push(scenario('login_wechat_success'));
  await page.onLogin();
  assert.equal(world.wxLogins, 2, 'a fresh wx.login code for every try');
  assert.equal(page.data.loggedIn, true);
}, { wechatLogin: true, smsverifyScene: 'login' }));

test('a successful login keeps the token of the answer', withPage(async (world, page) => {
  const answer = JSON.parse(JSON.stringify(scenario('login_success')));
  Object.assign(answer.response.data, { token: 'eyJ.header.sig', tokenType: 'Bearer', expiresIn: 300 });
  world.type('13800138000', '{sms code}');
  world.answers.push(answer);
  await page.onLogin();
  assert.deepEqual(page.token, { token: 'eyJ.header.sig', tokenType: 'Bearer', expiresAt: START + 300000 });
}));

test('a wrong code keeps the code field; an invalidated code clears it', withPage(async (world, page) => {
  world.type('13800138001', '111111');
  world.answers.push(scenario('login_wrong_code_second'));
  await page.onLogin();
  assert.equal(page.data.message, '验证码错误，还可尝试 1 次');
  assert.equal(page.data.code, '111111');
  world.answers.push(scenario('login_wrong_code_last'));
  await page.onLogin();
  assert.equal(page.data.message, '验证码错误次数过多，已失效，请重新获取');
  assert.equal(page.data.code, '');
}));

test('CaptchaRequired shows t-captcha; its verify event repeats getSms with ticket, randstr and the same verificationId', withPage(async (world, page) => {
  world.type('13800138008');
  world.answers.push(scenario('getSms_captcha_missing'));
  await page.onGetSms();
  assert.equal(world.captchaShows, 1);
  assert.equal(page.data.captchaFor, 'getSms');
  assert.equal(page.data.message, '请先完成人机验证');
  await page.onGetSms(); // the buttons wait for the captcha
  assert.equal(world.requests.length, 1);
  world.answers.push(scenario('getSms_ok'));
  await page.onCaptchaVerify({ detail: { ret: 0, ticket: 't03ticket', randstr: '@rnd' } });
  assert.equal(world.requests.length, 2);
  const [first, retry] = world.requests.map((r) => r.data);
  assert.deepEqual(retry, { ...first, ticket: 't03ticket', randstr: '@rnd' });
  assert.equal(page.data.captchaFor, '');
  assert.equal(page.data.sendLeft, 60);

  world.advance(60);
  world.answers.push(scenario('getSms_captcha_rejected'));
  await page.onGetSms();
  assert.equal(world.captchaShows, 2, 'CaptchaFailed shows the captcha again');
  page.onCaptchaClose();
  assert.equal(page.data.message, '已取消人机验证');
  assert.equal(page.data.captchaFor, '');
  await page.onCaptchaVerify({ detail: { ret: 2 } });
  assert.equal(world.requests.length, 3, 'a captcha not passed repeats nothing');
}));

test('without a captchaAppId the page says the captcha is not configured', withPage(async (world, page) => {
  world.type('13800138008');
  world.answers.push(scenario('getSms_captcha_missing'));
  await page.onGetSms();
  assert.equal(world.captchaShows, 0);
  assert.match(page.data.message, /captchaAppId/);
}, { captchaAppId: null }));

test('empty fields are caught on the page without a request', withPage(async (world, page) => {
  await page.onGetSms();
  assert.equal(page.data.message, '请输入手机号码');
  world.type('13800138000');
  await page.onLogin();
  assert.equal(page.data.message, '请输入验证码');
  assert.equal(world.requests.length, 0);
}));

test('a network failure shows the NetworkError message', withPage(async (world, page) => {
  world.type('13800138000');
  world.answers.push('fail');
  await page.onGetSms();
  assert.equal(page.data.message, '网络连接失败，请检查网络后重试');
  assert.equal(page.data.sending, false);
}));

test('onUnload stops the countdown interval', withPage(async (world, page) => {
  world.type('13800138000');
  world.answers.push(scenario('getSms_ok'));
  await page.onGetSms();
  assert.equal(world.intervals.size, 1);
  page.onUnload();
  assert.equal(world.intervals.size, 0);
}));

/** Recorded calls the page itself makes: getSms with a typed phone, login with a typed phone and code. */
function pageCanSend(s) {
  if (!s.call || s.call.args[0] === undefined || s.call.args[0] === '') return false;
  return s.call.fn === 'getSms' ? s.call.args.length === 1 : s.call.args.length === 2;
}

test('the page reaches most recorded outcomes (captcha tickets and empty fields are not page input)', () => {
  assert.ok(FIXTURES.scenarios.filter(pageCanSend).length >= 25);
});

for (const recorded of FIXTURES.scenarios.filter(pageCanSend)) {
  test(`the page shows the message of ${recorded.name}`, withPage(async (world, page) => {
    const [phone, code] = recorded.call.args;
    world.answers.push(recorded);
    world.type(phone, code);
    await (recorded.call.fn === 'getSms' ? page.onGetSms() : page.onLogin());
    const expected = smsverify.normalize(recorded.call.fn, recorded.response);
    assert.equal(world.requests.length, 1);
    assert.deepEqual(withPlaceholder(world.requests[0].data), recorded.request.data);
    assert.equal(page.data.message, expected.message);
    assert.equal(page.data.messageType, expected.ok ? (expected.action === 'loggedIn' ? 'success' : 'info')
      : (expected.action === 'checkSms' ? 'info' : 'error'));
  }));
}
