/**
 * smsverify client for WeChat mini-programs.
 *
 * Calls the smsverify cloud function (API Gateway or Function URL) with
 * wx.request and turns every answer into one normalised result object:
 *
 *   {
 *     ok,            // true for Ok (getSms, status) and Success (login)
 *     method,        // 'getSms' | 'login' | 'status'
 *     codeStr,       // the function's codeStr, or 'NetworkError' / 'UnexpectedResponse' (client side)
 *     message,       // Chinese text to show the user
 *     action,        // what the page should do, see ACTIONS
 *     cooldown,      // seconds the attempted action stays blocked (getSms: resend countdown), or null
 *     retryAfter, attemptsLeft, providerCode, captchaCode, expiresIn, resendAfter, provider,  // body fields or null
 *     channel,       // 'sms' | 'voice': how the code went (getSms Ok of a voice code, status), else null
 *     delivery, resendAllowed, otherChannel, // status Ok: 'sent' | 'delivered' | 'failed'; the last two when failed
 *     wechatErrcode, // WeChat's errcode of a WechatLoginFailed, or null
 *     token, tokenType, // login Success of a function that issues tokens: the signed token and "Bearer", else null
 *                    // (expiresIn is then the token's life in seconds)
 *     requestId,     // the function's requestId (quote it when reporting a problem), or null
 *     statusCode,    // HTTP status, or null when no answer arrived
 *     serverMessage  // the function's own msg, or null
 *   }
 *
 * The promises never reject: an HTTP 4xx/5xx business answer resolves like a
 * success, and a wx.request failure (no network, timeout, domain not allowed)
 * resolves with codeStr 'NetworkError' (so does a failed wx.login when the
 * client was asked to send a wxCode).
 *
 * The client keeps the token of the last login Success (getToken()); it
 * never reads it: only the business backend verifies it.
 *
 * Every getSms and login carries a `verificationId`: a random id the client
 * makes for one verification flow (base64url of 24 bytes from
 * wx.getRandomValues, 32 characters), reused for the resend and the login of
 * that flow. A new flow (a new id) starts with another phone, after a login
 * Success and after an answer that asks for a new code (CodeHasExpired,
 * CodeHasValid, the last CodeIsError). Both calls also send `lang`.
 *
 * Voice codes (getVoiceCode): the same flow's code read out in a phone call
 * (getSms with channel=voice and the same verificationId), for deployments
 * with voice codes (the function's VOICE_SDKAPPID; without it the function
 * answers InValidParam). Delivery status (status): where the flow's code
 * stands, from the delivery receipts; deliveryAdvice() turns it into the next
 * step to show.
 *
 * CommonJS, no dependencies, ES2017 (no optional chaining, no object spread).
 */
'use strict';

/** What a page does with a result. */
var ACTIONS = {
  CODE_SENT: 'codeSent', // start the resend countdown (cooldown = resendAfter)
  LOGGED_IN: 'loggedIn',
  WAIT: 'wait', // the attempted action is blocked for `cooldown` seconds (or until tomorrow when null)
  RETRY_CODE: 'retryCode', // wrong code, `attemptsLeft` tries left for this code
  NEW_CODE: 'newCode', // the code is expired, used or invalidated: get a new one
  FIX_INPUT: 'fixInput', // phone (or code) is malformed
  ENTER_CODE: 'enterCode', // the code field is empty
  CAPTCHA: 'captcha', // solve the captcha (again), then repeat the same call with its ticket/randstr
  WX_LOGIN: 'wxLogin', // WeChat refused the wx.login code: log in again (a fresh wx.login code is taken)
  CHECK_SMS: 'checkSms', // the SMS may still arrive: wait for it before asking again
  RETRY: 'retry', // try again later
  DELIVERY: 'delivery' // a status answer: show deliveryAdvice(result)
};

/**
 * Every codeStr the function can answer, with the user-facing message and
 * the action. `{wait}` is replaced by the formatted retryAfter,
 * `{attemptsLeft}` by the tries left. A test proves these keys are exactly
 * the codeStrs of the Python error model (src/smsverify/errors.py and
 * edge/responses.py STATUS).
 */
var CODES = {
  Ok: { action: ACTIONS.CODE_SENT, message: '验证码已发送，请注意查收短信' },
  Success: { action: ACTIONS.LOGGED_IN, message: '登录成功' },
  InValidParam: {
    action: ACTIONS.FIX_INPUT,
    message: '请求参数有误，请检查后重试',
    byMethod: { getSms: '请输入正确的手机号码', login: '请检查手机号和验证码是否填写正确' }
  },
  MissingCode: { action: ACTIONS.ENTER_CODE, message: '请输入验证码' },
  CaptchaFailed: { action: ACTIONS.CAPTCHA, message: '人机验证未通过，请重新验证' },
  WechatLoginFailed: {
    action: ACTIONS.WX_LOGIN,
    message: '微信登录失败，请重试',
    // WeChat's errcodes (auth.code2Session): 45011 frequency limit, 40226 high-risk user, -1 busy.
    byErrcode: { '45011': '微信登录过于频繁，请稍后再试', '40226': '当前微信账号存在风险，暂无法登录', '-1': '微信系统繁忙，请稍后再试' }
  },
  CaptchaRequired: { action: ACTIONS.CAPTCHA, message: '请先完成人机验证' },
  CodeHasExpired: { action: ACTIONS.NEW_CODE, message: '验证码已过期或已使用，请重新获取' },
  CodeHasValid: { action: ACTIONS.NEW_CODE, message: '验证码错误次数过多，已失效，请重新获取' },
  CodeIsError: {
    action: ACTIONS.RETRY_CODE,
    message: '验证码错误，还可尝试 {attemptsLeft} 次',
    noAttemptsLeft: '验证码错误次数过多，已失效，请重新获取',
    noCount: '验证码错误，请重新输入'
  },
  TooFrequent: { action: ACTIONS.WAIT, message: '发送过于频繁，请 {wait}后再试', noWait: '发送过于频繁，请稍后再试' },
  HourlyLimitExceeded: {
    action: ACTIONS.WAIT,
    message: '该手机号发送次数过多，请 {wait}后再试',
    noWait: '该手机号发送次数过多，请稍后再试'
  },
  DailyLimitExceeded: {
    action: ACTIONS.WAIT,
    message: '该手机号今日获取验证码次数已达上限，请 {wait}后再试',
    noWait: '该手机号今日获取验证码次数已达上限，请明天再试'
  },
  IpLimitExceeded: {
    action: ACTIONS.WAIT,
    message: '当前网络获取验证码次数过多，请 {wait}后再试',
    noWait: '当前网络获取验证码次数过多，请稍后再试'
  },
  PrefixLimitExceeded: {
    action: ACTIONS.WAIT,
    message: '该号段获取验证码次数过多，请 {wait}后再试',
    noWait: '该号段获取验证码次数过多，请稍后再试'
  },
  VerifyLimitExceeded: {
    action: ACTIONS.WAIT,
    message: '今日验证码错误次数过多，请 {wait}后再试',
    noWait: '今日验证码错误次数过多，请明天再试'
  },
  ServiceBusy: { action: ACTIONS.WAIT, message: '短信服务繁忙，请 {wait}后再试', noWait: '短信服务繁忙，请稍后再试' },
  SmsSendFailed: { action: ACTIONS.RETRY, message: '短信发送失败，请稍后重试' },
  SmsSendTimeout: { action: ACTIONS.CHECK_SMS, message: '短信可能稍有延迟，请留意查收；如未收到，请稍后重新获取' },
  ServiceUnavailable: { action: ACTIONS.RETRY, message: '服务暂不可用，请稍后再试' },
  OriginNotAllowed: { action: ACTIONS.RETRY, message: '当前页面不允许调用验证码服务' }, // browsers only (CORS)
  InternalError: { action: ACTIONS.RETRY, message: '服务出错了，请稍后再试' },
  // The delivery-receipt path and its timer event only: never an answer to getSms or login.
  NotFound: { action: ACTIONS.RETRY, message: '请求的地址不存在' },
  ReceiptPullFailed: { action: ACTIONS.RETRY, message: '服务暂不可用，请稍后再试' }
};

/** Outcomes the client itself produces; never sent by the function. */
var CLIENT_CODES = {
  NetworkError: { action: ACTIONS.RETRY, message: '网络连接失败，请检查网络后重试' },
  NoRandom: { action: ACTIONS.RETRY, message: '当前微信版本过低，请升级微信后重试' }, // wx.getRandomValues missing or failed
  UnexpectedResponse: { action: ACTIONS.RETRY, message: '服务返回异常，请稍后再试' }
};

/** A codeStr this version does not know (a newer function): show its msg. */
var UNKNOWN_CODE = { action: ACTIONS.RETRY, message: '请求失败，请稍后再试' };

var BODY_FIELDS = ['retryAfter', 'attemptsLeft', 'providerCode', 'captchaCode', 'expiresIn', 'resendAfter', 'provider',
  'wechatErrcode', 'token', 'tokenType', 'channel', 'delivery', 'resendAllowed', 'otherChannel'];

/** Texts of a voice code's Ok and of the delivery states (status). */
var VOICE_SENT = '请留意来电，电话将播报验证码';
var DELIVERY_TEXT = {
  sent: '正在发送…',
  delivered: '已送达，请查看短信',
  deliveredVoice: '语音电话已接通，请输入听到的验证码',
  failed: '短信发送失败',
  failedVoice: '语音电话未接通'
};
/** The link that asks for the status, and the voice option (docs: "收不到短信？试试语音验证码"). */
var NOT_RECEIVED = '未收到？';
var VOICE_OFFER = '收不到短信？试试语音验证码';

function has(object, key) {
  return Object.prototype.hasOwnProperty.call(object, key);
}

function isCount(value) {
  return typeof value === 'number' && isFinite(value) && value >= 0;
}

/** Seconds as Chinese text: '45 秒', '55 分钟', '4 小时 52 分钟' (minutes rounded up). */
function formatWait(seconds) {
  var s = Math.max(0, Math.ceil(Number(seconds) || 0));
  if (s < 60) {
    return s + ' 秒';
  }
  var minutes = Math.ceil(s / 60);
  if (minutes < 60) {
    return minutes + ' 分钟';
  }
  var hours = Math.floor(minutes / 60);
  var rest = minutes % 60;
  return rest ? hours + ' 小时 ' + rest + ' 分钟' : hours + ' 小时';
}

function headerValue(header, name) {
  if (!header || typeof header !== 'object') {
    return undefined;
  }
  var wanted = name.toLowerCase();
  var keys = Object.keys(header);
  for (var i = 0; i < keys.length; i++) {
    if (keys[i].toLowerCase() === wanted) {
      return header[keys[i]];
    }
  }
  return undefined;
}

function baseResult(method, codeStr, entry, statusCode) {
  return {
    ok: false,
    method: method,
    codeStr: codeStr,
    message: entry.message,
    action: entry.action,
    cooldown: null,
    retryAfter: null,
    attemptsLeft: null,
    providerCode: null,
    captchaCode: null,
    expiresIn: null,
    resendAfter: null,
    provider: null,
    wechatErrcode: null,
    token: null,
    tokenType: null,
    channel: null,
    delivery: null,
    resendAllowed: null,
    otherChannel: null,
    requestId: null,
    statusCode: statusCode,
    serverMessage: null
  };
}

/** The result for a wx.request fail callback (no HTTP answer). */
function networkError(method) {
  return baseResult(method, 'NetworkError', CLIENT_CODES.NetworkError, null);
}

/**
 * Normalise what wx.request's success callback received
 * ({ statusCode, data, header }; data is parsed JSON when the answer is JSON).
 */
function normalize(method, response) {
  var statusCode = response && typeof response.statusCode === 'number' ? response.statusCode : null;
  var data = response ? response.data : undefined;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (e) {
      data = undefined;
    }
  }
  if (!data || typeof data !== 'object' || typeof data.codeStr !== 'string') {
    return baseResult(method, 'UnexpectedResponse', CLIENT_CODES.UnexpectedResponse, statusCode);
  }
  var codeStr = data.codeStr;
  var entry = has(CODES, codeStr) ? CODES[codeStr] : UNKNOWN_CODE;
  var result = baseResult(method, codeStr, entry, statusCode);
  result.requestId = typeof data.requestId === 'string' ? data.requestId : null;
  result.serverMessage = typeof data.msg === 'string' ? data.msg : null;
  BODY_FIELDS.forEach(function (field) {
    if (has(data, field) && data[field] !== null && data[field] !== undefined) {
      result[field] = data[field];
    }
  });
  if (result.retryAfter === null) {
    var header = Number(headerValue(response.header, 'Retry-After'));
    if (isCount(header) && header > 0) {
      result.retryAfter = header;
    }
  }
  result.ok = (codeStr === 'Ok' || codeStr === 'Success') && statusCode !== null && statusCode >= 200 && statusCode < 300;

  if (method === 'status' && codeStr === 'Ok') {
    result.action = ACTIONS.DELIVERY;
    result.message = deliveryAdvice(result).text;
    return result;
  }
  if (entry === UNKNOWN_CODE) {
    result.message = result.serverMessage || entry.message;
    if (isCount(result.retryAfter)) {
      result.action = ACTIONS.WAIT;
      result.cooldown = result.retryAfter;
    }
    return result;
  }
  if (codeStr === 'Ok' || entry.action === ACTIONS.CHECK_SMS) {
    // Sent, or maybe sent (SmsSendTimeout keeps the code and its cooldown): count down to the next send.
    result.cooldown = isCount(result.resendAfter) && result.resendAfter > 0 ? result.resendAfter : null;
    if (codeStr === 'Ok' && result.channel === 'voice') {
      result.message = VOICE_SENT;
    }
  } else if (entry.action === ACTIONS.WAIT) {
    if (isCount(result.retryAfter)) {
      result.cooldown = result.retryAfter;
      result.message = entry.message.replace('{wait}', formatWait(result.retryAfter));
    } else {
      result.message = entry.noWait;
    }
  } else if (codeStr === 'CodeIsError') {
    if (!isCount(result.attemptsLeft)) {
      result.message = entry.noCount;
    } else if (result.attemptsLeft === 0) {
      result.action = ACTIONS.NEW_CODE;
      result.message = entry.noAttemptsLeft;
    } else {
      result.message = entry.message.replace('{attemptsLeft}', String(result.attemptsLeft));
    }
  } else if (entry.byErrcode && result.wechatErrcode !== null && has(entry.byErrcode, String(result.wechatErrcode))) {
    result.message = entry.byErrcode[String(result.wechatErrcode)];
  } else if (entry.byMethod && has(entry.byMethod, method)) {
    result.message = entry.byMethod[method];
  }
  return result;
}

/**
 * The next step after a status answer (a normalised result of method 'status', codeStr Ok):
 *   { text,        what to show: '已送达，请查看短信', '正在发送…', or the failure and what to do
 *     resendAfter, failed: seconds until the function takes a resend (0: now), else null
 *     offerVoice } failed by SMS and the function has voice codes (otherChannel): offer them now,
 *                  usable at once (a getVoiceCode inside the SMS's resendAfter is a resend by another
 *                  route and places the call; only a repeat of the same call inside its own is a replay)
 */
function deliveryAdvice(result) {
  var voice = result.channel === 'voice';
  if (result.delivery === 'delivered') {
    return { text: voice ? DELIVERY_TEXT.deliveredVoice : DELIVERY_TEXT.delivered, resendAfter: null, offerVoice: false };
  }
  if (result.delivery !== 'failed') {
    return { text: DELIVERY_TEXT.sent, resendAfter: null, offerVoice: false };
  }
  var wait = result.resendAllowed === true || !isCount(result.resendAfter) ? 0 : result.resendAfter;
  var offerVoice = result.otherChannel === true;
  var text = voice ? DELIVERY_TEXT.failedVoice : DELIVERY_TEXT.failed;
  text += wait > 0 ? '，' + formatWait(wait) + '后可重新获取' : '，请重新获取';
  if (offerVoice) {
    text += '，或试试语音验证码';
  }
  return { text: text, resendAfter: wait, offerVoice: offerVoice };
}

function compact(object) {
  var out = {};
  Object.keys(object).forEach(function (key) {
    if (object[key] !== undefined && object[key] !== null) {
      out[key] = object[key];
    }
  });
  return out;
}

/** Bytes of one verificationId: 192 bits, 32 base64url characters (the function takes 22-64). */
var VERIFICATION_ID_BYTES = 24;
var BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';  // pragma: allowlist secret

/** base64url without padding (RFC 4648 section 5) of a Uint8Array. */
function base64url(bytes) {
  var out = '';
  for (var i = 0; i < bytes.length; i += 3) {
    var n = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8) | (i + 2 < bytes.length ? bytes[i + 2] : 0);
    var chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (var j = 0; j < chars; j++) {
      out += BASE64URL.charAt((n >> (18 - 6 * j)) & 63);
    }
  }
  return out;
}

/** wx.getRandomValues (base library 2.22.0+) as `length -> Promise<Uint8Array | null>`. */
function wxRandomValues(length) {
  return new Promise(function (resolve) {
    if (typeof wx === 'undefined' || typeof wx.getRandomValues !== 'function') {
      resolve(null);
      return;
    }
    wx.getRandomValues({
      length: length,
      success: function (res) {
        resolve(res && res.randomValues ? new Uint8Array(res.randomValues) : null);
      },
      fail: function () {
        resolve(null);
      }
    });
  });
}

/** Resolve a fresh verificationId, or null when no secure random source answered. */
function makeVerificationId(randomValues) {
  return Promise.resolve(randomValues(VERIFICATION_ID_BYTES)).then(function (bytes) {
    return bytes && bytes.length === VERIFICATION_ID_BYTES ? base64url(bytes) : null;
  }, function () {
    return null;
  });
}

/**
 * createClient({ baseUrl, request, timeout, scene, wechatLogin, wxLogin, lang, randomValues })
 *   baseUrl      the function's URL (API Gateway path or Function URL)
 *   request      wx.request by default; tests inject a stub with the same contract
 *   timeout      ms for wx.request (default 10000)
 *   scene        the purpose sent with both calls ('login', 'register', ...); not sent when unset
 *                (the function then uses its default scene)
 *   wechatLogin  true: every login first calls wx.login and sends its code as wxCode, so the
 *                function binds the WeChat user (openid) to the phone in its token
 *   wxLogin      wx.login by default; tests inject a stub with the same contract
 *   lang         the UI language sent with both calls: 'zh-CN' (default) or 'en'
 *   randomValues `length -> Promise<Uint8Array>`, secure random bytes for the verificationId;
 *                wx.getRandomValues by default
 * Returns { getSms(phone, extra), getVoiceCode(phone, extra), status(phone), login(phone, code, extra),
 * getToken(), verificationId(), newFlow() }. getVoiceCode is getSms with channel=voice: the same
 * flow's code by a phone call (only where the function has voice codes). status asks where the
 * flow's code stands (method=status; a result with action 'delivery', see deliveryAdvice). Either extra may carry the captcha's { ticket, randstr } (after a CaptchaRequired
 * or CaptchaFailed answer, repeat the same call with them) and a `scene` for this call only.
 * getToken() gives { token, tokenType, expiresAt (ms) } of the last login Success while it has
 * not expired, else null. verificationId() is the current flow's id (null before the first call
 * of a flow); newFlow() forgets it, so the next call starts a new flow.
 */
function createClient(options) {
  var opts = options || {};
  if (!opts.baseUrl || typeof opts.baseUrl !== 'string') {
    throw new Error('smsverify: createClient needs baseUrl, the URL of the function');
  }
  var request = opts.request;
  if (!request) {
    if (typeof wx === 'undefined' || typeof wx.request !== 'function') {
      throw new Error('smsverify: wx.request is not available; pass options.request');
    }
    request = wx.request.bind(wx);
  }
  var timeout = opts.timeout || 10000;
  var lang = opts.lang || 'zh-CN';
  var randomValues = opts.randomValues || wxRandomValues;
  var kept = null; // { token, tokenType, expiresAt } of the last login Success
  var flow = null; // { phone, id } of the current verification flow

  /** The id of the flow of `phone`: the current one, or a new one for another phone. */
  function flowId(phone) {
    if (flow && flow.phone === phone) {
      return Promise.resolve(flow.id);
    }
    return makeVerificationId(randomValues).then(function (id) {
      flow = id ? { phone: phone, id: id } : null;
      return id;
    });
  }

  /** A Success or a request for a new code ends the flow: the next call makes a new id. */
  function afterAnswer(result) {
    if (result.action === ACTIONS.LOGGED_IN || result.action === ACTIONS.NEW_CODE) {
      flow = null;
    }
    return result;
  }

  function noRandom(method) {
    return baseResult(method, 'NoRandom', CLIENT_CODES.NoRandom, null);
  }

  function wxCode() {
    var wxLogin = opts.wxLogin;
    if (!wxLogin) {
      if (typeof wx === 'undefined' || typeof wx.login !== 'function') {
        return Promise.resolve(null);
      }
      wxLogin = wx.login.bind(wx);
    }
    return new Promise(function (resolve) {
      wxLogin({
        timeout: timeout,
        success: function (res) {
          resolve(res && typeof res.code === 'string' && res.code ? res.code : null);
        },
        fail: function () {
          resolve(null);
        }
      });
    });
  }

  function call(method, params) {
    var data = compact(Object.assign({}, params, { method: method }));
    return new Promise(function (resolve) {
      request({
        url: opts.baseUrl,
        method: 'POST',
        header: { 'content-type': 'application/json' },
        data: data,
        dataType: 'json',
        timeout: timeout,
        success: function (response) {
          resolve(normalize(method, response));
        },
        fail: function () {
          resolve(networkError(method));
        }
      });
    });
  }

  function withScene(params) {
    if (params.scene === undefined && opts.scene) {
      params.scene = opts.scene;
    }
    return params;
  }

  function getSms(phone, extra) {
    var params = Object.assign({}, extra || {});
    delete params.method;
    delete params.verificationId;
    params.phone = phone;
    params.lang = lang;
    return flowId(phone).then(function (id) {
      if (!id) {
        return noRandom('getSms');
      }
      params.verificationId = id;
      return call('getSms', withScene(params)).then(afterAnswer);
    });
  }

  return {
    getSms: getSms,
    getVoiceCode: function (phone, extra) {
      return getSms(phone, Object.assign({}, extra || {}, { channel: 'voice' }));
    },
    status: function (phone) {
      return flowId(phone).then(function (id) {
        if (!id) {
          return noRandom('status');
        }
        return call('status', withScene({ phone: phone, lang: lang, verificationId: id })).then(afterAnswer);
      });
    },
    login: function (phone, code, extra) {
      var params = Object.assign({}, extra || {});
      delete params.method;
      delete params.verificationId;
      params.phone = phone;
      params.code = code;
      params.lang = lang;
      var ready = opts.wechatLogin && params.wxCode === undefined ? wxCode() : Promise.resolve(params.wxCode);
      return ready.then(function (wxcode) {
        if (opts.wechatLogin && !wxcode) {
          return networkError('login'); // wx.login failed: asking without it would log in unbound
        }
        params.wxCode = wxcode;
        return flowId(phone).then(function (id) {
          if (!id) {
            return noRandom('login');
          }
          params.verificationId = id;
          return call('login', withScene(params)).then(afterAnswer);
        });
      }).then(function (result) {
        if (result.ok && typeof result.token === 'string' && result.token) {
          kept = {
            token: result.token,
            tokenType: result.tokenType || 'Bearer',
            expiresAt: isCount(result.expiresIn) ? Date.now() + result.expiresIn * 1000 : null
          };
        }
        return result;
      });
    },
    getToken: function () {
      if (kept && kept.expiresAt !== null && kept.expiresAt <= Date.now()) {
        kept = null;
      }
      return kept ? Object.assign({}, kept) : null;
    },
    verificationId: function () {
      return flow ? flow.id : null;
    },
    newFlow: function () {
      flow = null;
    }
  };
}

/** Countdown helpers: pure functions of the time, in milliseconds. */

/** The moment (ms) a countdown of `seconds` started at `nowMs` ends, or 0 for none. */
function countdownEndsAt(seconds, nowMs) {
  return isCount(seconds) && seconds > 0 ? nowMs + Math.ceil(seconds) * 1000 : 0;
}

/** Whole seconds left until `endsAtMs` (rounded up), 0 when over. */
function secondsLeft(endsAtMs, nowMs) {
  if (!endsAtMs || endsAtMs <= nowMs) {
    return 0;
  }
  return Math.ceil((endsAtMs - nowMs) / 1000);
}

/** The text of the send button for `left` seconds of cooldown. */
function sendButtonText(left) {
  return left > 0 ? left + 's 后重新获取' : '获取验证码';
}

module.exports = {
  ACTIONS: ACTIONS,
  CODES: CODES,
  CLIENT_CODES: CLIENT_CODES,
  createClient: createClient,
  normalize: normalize,
  base64url: base64url,
  VERIFICATION_ID_BYTES: VERIFICATION_ID_BYTES,
  networkError: networkError,
  formatWait: formatWait,
  countdownEndsAt: countdownEndsAt,
  secondsLeft: secondsLeft,
  sendButtonText: sendButtonText,
  deliveryAdvice: deliveryAdvice,
  NOT_RECEIVED: NOT_RECEIVED,
  VOICE_OFFER: VOICE_OFFER
};
