// Tests of utils/smsverify.js against responses recorded from the real
// function (fixtures/responses.json, written by record_fixtures.py).
//
// Proves: the request each call sends (url, method, content-type, data) is
// the one the function was recorded answering; every recorded response is
// normalised to the expected codeStr, message, action and cooldown, with the
// body fields carried over; a wx.request fail callback resolves NetworkError;
// non-JSON answers resolve UnexpectedResponse; the countdown helpers are pure
// functions of the time; the module parses as ES2017.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');

const smsverify = require('../utils/smsverify.js');

const FIXTURES = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'responses.json'), 'utf8'));
const SCENARIOS = FIXTURES.scenarios;
const BASE_URL = 'https://service-test-1250000000.gz.apigw.tencentcs.com/release/sms';
const BODY_FIELDS = ['retryAfter', 'attemptsLeft', 'providerCode', 'captchaCode', 'expiresIn', 'resendAfter', 'provider',
  'wechatErrcode', 'token', 'tokenType'];

/** What each recorded response must become: action, cooldown (s) and the message shown. */
const EXPECTED = {
  getSms_ok: ['codeSent', 60, '验证码已发送，请注意查收短信'],
  getSms_repeat: ['codeSent', 60, '验证码已发送，请注意查收短信'],
  getSms_too_frequent: ['wait', 45, '发送过于频繁，请 45 秒后再试'],
  login_wrong_code: ['retryCode', null, '验证码错误，还可尝试 2 次'],
  login_success: ['loggedIn', null, '登录成功'],
  login_code_used: ['newCode', null, '验证码已过期或已使用，请重新获取'],
  login_missing_code: ['enterCode', null, '请输入验证码'],
  login_code_not_digits: ['fixInput', null, '请检查手机号和验证码是否填写正确'],
  login_never_sent: ['newCode', null, '验证码已过期或已使用，请重新获取'],
  getSms_invalid_phone: ['fixInput', null, '请输入正确的手机号码'],
  getSms_empty_phone: ['fixInput', null, '请输入正确的手机号码'],
  getSms_missing_phone: ['fixInput', null, '请输入正确的手机号码'],
  getSms_country_not_allowed: ['fixInput', null, '请输入正确的手机号码'],
  unknown_method: ['fixInput', null, '请求参数有误，请检查后重试'],
  missing_method: ['fixInput', null, '请求参数有误，请检查后重试'],
  login_wrong_code_second: ['retryCode', null, '验证码错误，还可尝试 1 次'],
  login_wrong_code_last: ['newCode', null, '验证码错误次数过多，已失效，请重新获取'],
  login_code_invalidated: ['newCode', null, '验证码错误次数过多，已失效，请重新获取'],
  login_code_expired: ['newCode', null, '验证码已过期或已使用，请重新获取'],
  getSms_hourly_limit: ['wait', 3300, '该手机号发送次数过多，请 55 分钟后再试'],
  getSms_daily_limit: ['wait', 17480, '该手机号今日获取验证码次数已达上限，请 4 小时 52 分钟后再试'],
  getSms_ip_limit: ['wait', 3600, '当前网络获取验证码次数过多，请 1 小时后再试'],
  getSms_prefix_limit: ['wait', 3600, '该号段获取验证码次数过多，请 1 小时后再试'],
  getSms_service_busy: ['wait', 3600, '短信服务繁忙，请 1 小时后再试'],
  login_verify_limit: ['wait', 17600, '今日验证码错误次数过多，请 4 小时 54 分钟后再试'],
  getSms_captcha_missing: ['captcha', null, '请先完成人机验证'],
  getSms_captcha_rejected: ['captcha', null, '人机验证未通过，请重新验证'],
  getSms_captcha_unreachable: ['retry', null, '服务暂不可用，请稍后再试'],
  getSms_store_unreachable: ['retry', null, '服务暂不可用，请稍后再试'],
  login_store_unreachable: ['retry', null, '服务暂不可用，请稍后再试'],
  tencent_getSms_ok: ['codeSent', 60, '验证码已发送，请注意查收短信'],
  tencent_insufficient_balance: ['retry', null, '短信发送失败，请稍后重试'],
  tencent_timeout: ['checkSms', 60, '短信可能稍有延迟，请留意查收；如未收到，请稍后重新获取'],
  tencent_thirty_second_limit: ['wait', 60, '发送过于频繁，请 1 分钟后再试'],
  tencent_daily_limit: ['wait', 17600, '该手机号今日获取验证码次数已达上限，请 4 小时 54 分钟后再试'],
  tencent_incorrect_number: ['fixInput', null, '请输入正确的手机号码'],
  tencent_unreachable: ['retry', null, '短信发送失败，请稍后重试'],
  login_wechat_invalid_code: ['wxLogin', null, '微信登录失败，请重试'],
  login_wechat_high_risk: ['wxLogin', null, '当前微信账号存在风险，暂无法登录'],
  login_wechat_success: ['loggedIn', null, '登录成功'],
  login_wechat_unreachable: ['retry', null, '服务暂不可用，请稍后再试'],
  getSms_with_scene: ['codeSent', 60, '验证码已发送，请注意查收短信'],
  login_with_scene: ['loggedIn', null, '登录成功']
};

const VERIFICATION_ID = /^[A-Za-z0-9_-]{32}$/;

/** Secure random bytes, as wx.getRandomValues gives them. */
function randomValues(length) {
  return Promise.resolve(new Uint8Array(crypto.randomBytes(length)));
}

/** `data` with a well-formed verificationId replaced by the fixtures' placeholder. */
function withPlaceholder(data) {
  assert.match(data.verificationId, VERIFICATION_ID);
  return { ...data, verificationId: '{verification id}' };
}

/** wx.getRandomValues: { length, success({ randomValues: ArrayBuffer }), fail }. */
function wxGetRandomValues(options) {
  const bytes = crypto.randomBytes(options.length);
  options.success({ randomValues: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) });
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

/** A wx.request stub: records each call's options and answers through success/fail. */
function stubRequest(answer) {
  const calls = [];
  function request(options) {
    calls.push(options);
    answer(options);
    return { abort() {} };
  }
  request.calls = calls;
  return request;
}

/** A stub answering like wx.request does with a recorded response. */
function answering(scenario) {
  const { statusCode, header, data } = scenario.response;
  return stubRequest((options) => options.success({ statusCode, header: clone(header), data: clone(data), cookies: [] }));
}

test('every recorded scenario has an expectation, and every expectation a scenario', () => {
  assert.deepEqual(SCENARIOS.map((s) => s.name).sort(), Object.keys(EXPECTED).sort());
});

test('every codeStr the fixtures cover is in the table, and the table covers every codeStr of the function', () => {
  const table = Object.keys(smsverify.CODES).sort();
  assert.deepEqual(table, [...FIXTURES.codeStrs.all].sort());
  for (const scenario of SCENARIOS) {
    assert.ok(table.includes(scenario.response.data.codeStr), scenario.name);
  }
  for (const code of Object.keys(smsverify.CLIENT_CODES)) {
    assert.ok(!table.includes(code), `${code} is a client-side code and must not collide with the function's`);
  }
});

for (const scenario of SCENARIOS.filter((s) => s.call)) {
  test(`request sent for ${scenario.name}`, async () => {
    const request = answering(scenario);
    const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request });
    await client[scenario.call.fn](...scenario.call.args);
    assert.equal(request.calls.length, 1);
    const sent = request.calls[0];
    assert.equal(sent.url, BASE_URL);
    assert.equal(sent.method, scenario.request.method);
    assert.deepEqual(sent.header, scenario.request.header);
    assert.deepEqual(withPlaceholder(sent.data), scenario.request.data);
    assert.equal(sent.dataType, 'json');
    assert.equal(typeof sent.success, 'function');
    assert.equal(typeof sent.fail, 'function');
  });
}

for (const scenario of SCENARIOS) {
  test(`normalised answer for ${scenario.name}`, async () => {
    const data = scenario.response.data;
    let result;
    if (scenario.call) {
      const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request: answering(scenario) });
      result = await client[scenario.call.fn](...scenario.call.args);
    } else {
      // Requests the client cannot make (unknown or missing method): normalise the answer directly.
      result = smsverify.normalize(scenario.request.data.method, clone(scenario.response));
    }
    const [action, cooldown, message] = EXPECTED[scenario.name];
    assert.equal(result.codeStr, data.codeStr);
    assert.equal(result.ok, data.codeStr === 'Ok' || data.codeStr === 'Success');
    assert.equal(result.statusCode, scenario.response.statusCode);
    assert.equal(result.requestId, `mp-${scenario.name}`);
    assert.equal(result.requestId, data.requestId);
    assert.equal(result.serverMessage, data.msg);
    assert.equal(result.action, action);
    assert.equal(result.cooldown, cooldown);
    assert.equal(result.message, message);
    for (const field of BODY_FIELDS) {
      assert.equal(result[field], field in data ? data[field] : null, field);
    }
  });
}

test('a getSms with captcha sends ticket and randstr, and cannot override method or phone', async () => {
  const request = stubRequest((o) => o.fail({ errMsg: 'request:fail' }));
  const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request });
  await client.getSms('13800138000', { ticket: 't03x', randstr: '@r', method: 'login', phone: '1' });
  assert.deepEqual(withPlaceholder(request.calls[0].data),
    { method: 'getSms', phone: '13800138000', ticket: 't03x', randstr: '@r', lang: 'zh-CN', verificationId: '{verification id}' });
});

test('scene: a client-wide scene goes with both calls, a per-call one wins, none is sent when unset', async () => {
  const request = stubRequest((o) => o.fail({ errMsg: 'request:fail' }));
  const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request, scene: 'register' });
  await client.getSms('13800138000');
  await client.login('13800138000', '123456');
  await client.login('13800138000', '123456', { scene: 'resetPassword', method: 'getSms' });
  await smsverify.createClient({ randomValues, baseUrl: BASE_URL, request }).login('13800138000', '123456');
  const flow = { lang: 'zh-CN', verificationId: '{verification id}' };
  assert.deepEqual(request.calls.map((c) => withPlaceholder(c.data)), [
    { method: 'getSms', phone: '13800138000', scene: 'register', ...flow },
    { method: 'login', phone: '13800138000', code: '123456', scene: 'register', ...flow },
    { method: 'login', phone: '13800138000', code: '123456', scene: 'resetPassword', ...flow },
    { method: 'login', phone: '13800138000', code: '123456', ...flow }
  ]);
});

test('wechatLogin: each login takes a fresh wx.login code and sends it as wxCode', async () => {
  const recorded = SCENARIOS.find((s) => s.name === 'login_wechat_success');
  const request = answering(recorded);
  const codes = ['{wx code}', 'second-code'];
  const wxLogin = (o) => o.success({ code: codes.shift(), errMsg: 'login:ok' });
  const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request, wechatLogin: true, wxLogin });
  const result = await client.login('13800138011', '{sms code}');
  assert.deepEqual(withPlaceholder(request.calls[0].data), recorded.request.data);
  assert.equal(result.ok, true);
  await client.login('13800138011', '{sms code}');
  assert.equal(request.calls[1].data.wxCode, 'second-code');
});

test('wechatLogin: a failed wx.login sends nothing and resolves NetworkError', async () => {
  const request = stubRequest(() => assert.fail('nothing may be sent'));
  for (const wxLogin of [(o) => o.fail({ errMsg: 'login:fail' }), (o) => o.success({ errMsg: 'login:ok' })]) {
    const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request, wechatLogin: true, wxLogin });
    const result = await client.login('13800138011', '123456');
    assert.equal(result.codeStr, 'NetworkError');
  }
  assert.equal(request.calls.length, 0);
});

test('wechatLogin defaults to wx.login; without it wxCode is never sent', async () => {
  const request = stubRequest((o) => o.fail({ errMsg: 'request:fail' }));
  global.wx = { login: (o) => o.success({ code: 'from-wx-login' }), getRandomValues: wxGetRandomValues };
  try {
    await smsverify.createClient({ randomValues, baseUrl: BASE_URL, request, wechatLogin: true }).login('13800138000', '123456');
    await smsverify.createClient({ randomValues, baseUrl: BASE_URL, request }).login('13800138000', '123456');
  } finally {
    delete global.wx;
  }
  assert.equal(request.calls[0].data.wxCode, 'from-wx-login');
  assert.equal('wxCode' in request.calls[1].data, false);
});

test('the token of a login Success is kept until it expires; other answers keep none', async () => {
  const success = clone(SCENARIOS.find((s) => s.name === 'login_success'));
  Object.assign(success.response.data, { token: 'eyJ.header.sig', tokenType: 'Bearer', expiresIn: 300 });
  const saved = Date.now;
  let now = 1795000000000;
  Date.now = () => now;
  try {
    const failing = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request: answering(SCENARIOS.find((s) => s.name === 'login_wrong_code')) });
    await failing.login('13800138000', '111111');
    assert.equal(failing.getToken(), null);
    const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request: answering(success) });
    const result = await client.login('13800138000', '{sms code}');
    assert.deepEqual([result.token, result.tokenType, result.expiresIn], ['eyJ.header.sig', 'Bearer', 300]);
    assert.deepEqual(client.getToken(), { token: 'eyJ.header.sig', tokenType: 'Bearer', expiresAt: now + 300000 });
    now += 299999;
    assert.equal(client.getToken().token, 'eyJ.header.sig');
    now += 1;
    assert.equal(client.getToken(), null);
  } finally {
    Date.now = saved;
  }
  // The recorded Success carries the function's token (a placeholder in the fixtures): it is kept.
  const recorded = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request: answering(SCENARIOS.find((s) => s.name === 'login_success')) });
  assert.equal((await recorded.login('13800138000', '{sms code}')).ok, true);
  assert.equal(recorded.getToken().token, '{token}');
  // A function without tokens (an older deployment): ok, and no token kept.
  const older = clone(SCENARIOS.find((s) => s.name === 'login_success'));
  for (const field of ['token', 'tokenType', 'expiresIn']) delete older.response.data[field];
  const plain = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request: answering(older) });
  assert.equal((await plain.login('13800138000', '{sms code}')).ok, true);
  assert.equal(plain.getToken(), null);
});

test('a wx.request fail callback resolves NetworkError, never rejects', async () => {
  const request = stubRequest((o) => o.fail({ errMsg: 'request:fail timeout' }));
  const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request });
  for (const [fn, args] of [['getSms', ['13800138000']], ['login', ['13800138000', '123456']]]) {
    const result = await client[fn](...args);
    assert.equal(result.codeStr, 'NetworkError');
    assert.equal(result.method, fn);
    assert.equal(result.ok, false);
    assert.equal(result.action, 'retry');
    assert.equal(result.message, '网络连接失败，请检查网络后重试');
    assert.equal(result.statusCode, null);
    assert.equal(result.requestId, null);
    assert.equal(result.cooldown, null);
  }
});

test('answers without a codeStr resolve UnexpectedResponse', async () => {
  const bodies = [
    '<html>502 Bad Gateway</html>', // wx leaves data a string when it is not JSON
    { errorCode: -1, errorMessage: 'gateway error' }, // an API Gateway error of its own
    '',
    null
  ];
  for (const data of bodies) {
    const client = smsverify.createClient({
      randomValues,
      baseUrl: BASE_URL,
      request: stubRequest((o) => o.success({ statusCode: 502, header: {}, data }))
    });
    const result = await client.getSms('13800138000');
    assert.equal(result.codeStr, 'UnexpectedResponse', JSON.stringify(data));
    assert.equal(result.statusCode, 502);
    assert.equal(result.action, 'retry');
    assert.equal(result.message, '服务返回异常，请稍后再试');
  }
});

test('a JSON body left as a string is parsed', () => {
  const scenario = SCENARIOS.find((s) => s.name === 'getSms_too_frequent');
  const response = clone(scenario.response);
  response.data = JSON.stringify(response.data);
  const result = smsverify.normalize('getSms', response);
  assert.equal(result.codeStr, 'TooFrequent');
  assert.equal(result.cooldown, 45);
});

test('retryAfter falls back to the Retry-After header, whatever its case', () => {
  const result = smsverify.normalize('getSms', {
    statusCode: 429,
    header: { 'retry-after': '30' },
    data: { codeStr: 'TooFrequent', msg: 'x', requestId: 'r' }
  });
  assert.equal(result.retryAfter, 30);
  assert.equal(result.cooldown, 30);
  assert.equal(result.message, '发送过于频繁，请 30 秒后再试');
});

test('an unknown codeStr shows the function\'s msg and honours retryAfter', () => {
  const plain = smsverify.normalize('getSms', { statusCode: 400, header: {}, data: { codeStr: 'NewThing', msg: '新的错误', requestId: 'r' } });
  assert.deepEqual([plain.codeStr, plain.action, plain.message, plain.cooldown, plain.ok], ['NewThing', 'retry', '新的错误', null, false]);
  const timed = smsverify.normalize('login', { statusCode: 429, header: {}, data: { codeStr: 'NewLimit', msg: '', retryAfter: 9 } });
  assert.deepEqual([timed.action, timed.message, timed.cooldown], ['wait', '请求失败，请稍后再试', 9]);
});

test('Ok is not ok when the HTTP status is not 2xx', () => {
  const result = smsverify.normalize('getSms', { statusCode: 500, header: {}, data: { codeStr: 'Ok', msg: '', requestId: 'r' } });
  assert.equal(result.ok, false);
});

test('createClient needs a baseUrl, and wx.request when no request is given', () => {
  assert.throws(() => smsverify.createClient({}), /baseUrl/);
  assert.throws(() => smsverify.createClient({ randomValues, baseUrl: BASE_URL }), /wx\.request/);
});

test('createClient defaults to wx.request', async () => {
  const request = stubRequest((o) => o.fail({ errMsg: 'request:fail' }));
  global.wx = { request, getRandomValues: wxGetRandomValues };
  try {
    await smsverify.createClient({ randomValues, baseUrl: BASE_URL }).login('13800138000', '123456');
  } finally {
    delete global.wx;
  }
  assert.equal(request.calls.length, 1);
  assert.equal(request.calls[0].timeout, 10000);
});

test('verificationId: one per flow, reused for the resend, the captcha retry and the login; new after the flow ends', async () => {
  const answers = ['getSms_captcha_missing', 'getSms_ok', 'login_wrong_code', 'login_success', 'getSms_ok', 'login_code_expired',
    'getSms_ok'].map((name) => SCENARIOS.find((s) => s.name === name));
  const request = stubRequest((o) => {
    const { statusCode, header, data } = answers.shift().response;
    o.success({ statusCode, header: clone(header), data: clone(data) });
  });
  const client = smsverify.createClient({ randomValues, baseUrl: BASE_URL, request, lang: 'en' });
  assert.equal(client.verificationId(), null);
  assert.equal((await client.getSms('13800138000')).action, 'captcha');
  const first = client.verificationId();
  assert.match(first, VERIFICATION_ID);
  await client.getSms('13800138000', { ticket: 't03x', randstr: '@r' });
  await client.login('13800138000', '111111');
  await client.login('13800138000', '{sms code}'); // Success ends the flow
  assert.equal(client.verificationId(), null);
  await client.getSms('13800138000');
  const second = client.verificationId();
  await client.login('13800138000', '{sms code}'); // CodeHasExpired ends it too
  await client.getSms('13800138001'); // another phone: another flow
  const ids = request.calls.map((c) => c.data.verificationId);
  assert.deepEqual(ids.slice(0, 4), [first, first, first, first]);
  assert.deepEqual(ids.slice(4, 6), [second, second]);
  assert.equal(new Set([first, second, ids[6]]).size, 3);
  assert.ok(request.calls.every((c) => c.data.lang === 'en'));
  client.newFlow();
  assert.equal(client.verificationId(), null);
});

test('verificationId: the base64url of the random bytes; no secure random source sends nothing', async () => {
  const bytes = Uint8Array.from({ length: 24 }, (_, i) => i * 11);
  assert.equal(smsverify.base64url(bytes), Buffer.from(bytes).toString('base64url'));
  for (const length of [1, 2, 3, 16, 31]) {
    const random = crypto.randomBytes(length);
    assert.equal(smsverify.base64url(random), random.toString('base64url'));
  }
  const request = stubRequest((o) => o.fail({ errMsg: 'request:fail' }));
  await smsverify.createClient({ baseUrl: BASE_URL, request, randomValues: () => Promise.resolve(bytes) }).getSms('13800138000');
  assert.equal(request.calls[0].data.verificationId, Buffer.from(bytes).toString('base64url'));
  for (const broken of [() => Promise.resolve(null), () => Promise.reject(new Error('no')), () => Promise.resolve(new Uint8Array(8))]) {
    const result = await smsverify.createClient({ baseUrl: BASE_URL, request, randomValues: broken }).login('13800138000', '123456');
    assert.equal(result.codeStr, 'NoRandom');
  }
  const result = await smsverify.createClient({ baseUrl: BASE_URL, request }).getSms('13800138000'); // no wx.getRandomValues
  assert.equal(result.codeStr, 'NoRandom');
  assert.equal(request.calls.length, 1);
});

test('formatWait: seconds, minutes rounded up, hours and minutes', () => {
  const cases = [[0, '0 秒'], [1, '1 秒'], [59, '59 秒'], [60, '1 分钟'], [61, '2 分钟'], [3300, '55 分钟'],
    [3540, '59 分钟'], [3541, '1 小时'], [3600, '1 小时'], [3601, '1 小时 1 分钟'], [17480, '4 小时 52 分钟'],
    [86400, '24 小时'], [-5, '0 秒'], [2.2, '3 秒']];
  for (const [seconds, text] of cases) {
    assert.equal(smsverify.formatWait(seconds), text, String(seconds));
  }
});

test('countdown: ends at start + seconds, counts whole seconds down on a fake clock', () => {
  const start = 1795000000000;
  const endsAt = smsverify.countdownEndsAt(60, start);
  assert.equal(endsAt, start + 60000);
  const seen = [];
  for (let now = start; now <= start + 61000; now += 500) {
    seen.push(smsverify.secondsLeft(endsAt, now));
  }
  assert.equal(seen[0], 60); // at the start
  assert.equal(seen[1], 60); // 0.5 s in: 59.5 s left shows 60
  assert.equal(seen[2], 59);
  assert.equal(seen[118], 1); // 59 s in
  assert.equal(seen[119], 1); // 59.5 s in
  assert.equal(seen[120], 0); // 60 s in: over
  assert.equal(seen[122], 0);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i] <= seen[i - 1], 'never counts up');
  }
});

test('countdown: no cooldown gives no countdown', () => {
  for (const seconds of [0, null, undefined, -1, NaN]) {
    assert.equal(smsverify.countdownEndsAt(seconds, 1000), 0);
  }
  assert.equal(smsverify.secondsLeft(0, 1000), 0);
});

test('send button text', () => {
  assert.equal(smsverify.sendButtonText(0), '获取验证码');
  assert.equal(smsverify.sendButtonText(42), '42s 后重新获取');
});

test('deliveryAdvice: the next step for each delivery state of a status answer (docs/protocol.md, method=status)', () => {
  // Status bodies in the shape the function answers (tests/e2e/clients/miniprogram.test.js gets sent
  // and failed from the real function); normalised like any answer.
  const status = (body) => smsverify.normalize('status', { statusCode: 200, header: {},
    data: { codeStr: 'Ok', msg: '查询成功', requestId: 'r', verificationId: 'v'.repeat(32), ...body } });
  const delivered = status({ delivery: 'delivered', channel: 'sms', description: 'DELIVRD' });
  assert.equal(delivered.action, 'delivery');
  assert.equal(delivered.message, '已送达，请查看短信');
  assert.deepEqual(smsverify.deliveryAdvice(delivered), { text: '已送达，请查看短信', resendAfter: null, offerVoice: false });
  assert.equal(status({ delivery: 'sent', channel: 'sms' }).message, '正在发送…');
  const failed = status({ delivery: 'failed', channel: 'sms', resendAllowed: false, resendAfter: 42, otherChannel: false });
  assert.deepEqual(smsverify.deliveryAdvice(failed), { text: '短信发送失败，42 秒后可重新获取', resendAfter: 42, offerVoice: false });
  const voiceFailed = status({ delivery: 'failed', channel: 'voice', resendAllowed: true, resendAfter: 0, otherChannel: false });
  assert.deepEqual(smsverify.deliveryAdvice(voiceFailed), { text: '语音电话未接通，请重新获取', resendAfter: 0, offerVoice: false });
  const voiceSent = smsverify.normalize('getSms', { statusCode: 200, header: {},
    data: { codeStr: 'Ok', msg: '验证码已发送', requestId: 'r', expiresIn: 300, resendAfter: 60, channel: 'voice' } });
  assert.deepEqual([voiceSent.action, voiceSent.cooldown, voiceSent.message], ['codeSent', 60, '请留意来电，电话将播报验证码']);
});

test('the mini-program sources parse as ES2017', (t) => {
  const files = ['utils/smsverify.js', 'app.js', 'pages/login/login.js'].map((f) => path.join(__dirname, '..', f));
  // Node's own copy of acorn (internal module): parse as ECMAScript 2017 scripts.
  const script = `
    const acorn = require('internal/deps/acorn/acorn/dist/acorn');
    const fs = require('fs');
    for (const file of JSON.parse(process.argv[1])) {
      try { acorn.parse(fs.readFileSync(file, 'utf8'), { ecmaVersion: 2017, sourceType: 'script' }); }
      catch (e) { console.log(file + ': ' + e.message); process.exitCode = 1; }
    }`;
  const probe = spawnSync(process.execPath, ['--expose-internals', '-e', 'require("internal/deps/acorn/acorn/dist/acorn")']);
  if (probe.status !== 0) {
    t.skip('this node does not carry acorn as an internal module');
    return;
  }
  const run = spawnSync(process.execPath, ['--expose-internals', '-e', script, JSON.stringify(files)], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
