// smsverify H5 example: captcha when the function asks for it, send a code, log in, hand the
// token to the business backend. Plain ES2017, no framework, no build step.
//
// Configuration (query string of index.html):
//   api           the function's URL (API Gateway path or Function URL); also typed in the form
//   captchaAppId  the CaptchaAppId of a Web captcha (Captcha console), the function's CAPTCHA_APP_ID
//   backend       the business backend's URL that takes "Authorization: Bearer <token>" (optional)
//   lang          zh-CN (default) or en: sent to the function and to the captcha (and the delivery texts)
//   voice         1 when the function has voice codes (VOICE_SDKAPPID): the page then offers the code
//                 by a phone call (getSms channel=voice, same verificationId) once the resend countdown
//                 has run out, or usable at once when the delivery status says the SMS failed (a call
//                 inside the SMS's resend interval is a resend by another route); after a call was
//                 placed its button counts down that Ok's resendAfter (a repeat inside it is a replay)
//
// Protocol (docs/protocol.md): every getSms and login carries a verificationId, a random id made
// here for one verification flow (base64url of 24 bytes from crypto.getRandomValues), reused for
// the resend and the login of that flow; another phone, a login Success or a request for a new code
// (CodeHasExpired, CodeHasValid, the last CodeIsError) starts a new flow. CaptchaRequired and
// CaptchaFailed show Tencent's captcha (TJCaptcha.js, `new TencentCaptcha(appId, callback).show()`)
// and repeat the same call with its ticket and randstr. The token is only decoded for display: its
// signature is verified by the business backend, never here. After a code went out, "未收到？" asks
// method=status for the flow's verificationId (also every POLL_MS while the code field is empty, for
// POLL_FOR_MS at most) and shows the next step: delivered, still sending, or failed (resend after
// resendAfter; the voice option at once and usable when otherChannel).
'use strict';

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var status = $('status');
  var query = new URLSearchParams(window.location.search);
  var captchaAppId = query.get('captchaAppId') || '';
  var backendUrl = query.get('backend') || '';
  var lang = query.get('lang') === 'en' ? 'en' : 'zh-CN';
  var WAIT_CODES = ['TooFrequent', 'HourlyLimitExceeded', 'DailyLimitExceeded', 'IpLimitExceeded', 'PrefixLimitExceeded',
    'VerifyLimitExceeded', 'ServiceBusy'];
  var BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';  // pragma: allowlist secret
  var voiceCodes = query.get('voice') === '1';
  var POLL_MS = 5000;
  var POLL_FOR_MS = 60000;
  var TEXT = lang === 'en' ? {
    notReceived: 'Didn\'t get it?', voiceOffer: 'No SMS? Get the code by voice call',
    voiceSent: 'Answer the call: it reads out your code', sent: 'Sending…', delivered: 'Delivered: check your messages',
    deliveredVoice: 'The call was answered: enter the code you heard', failed: 'The SMS could not be delivered',
    failedVoice: 'The call did not get through', resendIn: function (s) { return ', get a new code in ' + s + ' s'; },
    resendNow: ', get a new code', orVoice: ', or get it by voice call'
  } : {
    notReceived: '未收到？', voiceOffer: '收不到短信？试试语音验证码', voiceSent: '请留意来电，电话将播报验证码',
    sent: '正在发送…', delivered: '已送达，请查看短信', deliveredVoice: '语音电话已接通，请输入听到的验证码',
    failed: '短信发送失败', failedVoice: '语音电话未接通',
    resendIn: function (s) { return '，' + formatWait(s) + '后可重新获取'; }, resendNow: '，请重新获取', orVoice: '，或试试语音验证码'
  };
  $('not-received').textContent = TEXT.notReceived;

  if (query.get('api')) {
    $('api').value = query.get('api');
  }

  var flow = null; // { phone, id } of the current verification flow
  var buttons = {
    getSms: { element: $('send'), idle: '获取验证码', endsAt: 0, busy: false },
    login: { element: $('login'), idle: '登录', endsAt: 0, busy: false }
  };
  var timer = null;
  // voiceEndsAt: when the voice button takes a call; voiceCalled: a call of this flow was placed (its button shows).
  var delivery = { codeSent: false, voiceByFailure: false, voiceCalled: false, voiceEndsAt: 0, pollUntil: 0, pollTimer: null };

  /** Show a message; data-code-str carries the answer's codeStr for tests and scripts. */
  function show(text, kind, codeStr) {
    status.textContent = text;
    status.className = kind || '';
    status.dataset.codeStr = codeStr || '';
  }

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

  /** The verificationId of the flow of `phone`: the current one, or a new one for another phone. */
  function flowId(phone) {
    if (!flow || flow.phone !== phone) {
      flow = { phone: phone, id: base64url(window.crypto.getRandomValues(new Uint8Array(24))) };
    }
    return flow.id;
  }

  /** Seconds as short Chinese text: '45 秒', '55 分钟', '4 小时 52 分钟'. */
  function formatWait(seconds) {
    var s = Math.max(0, Math.ceil(Number(seconds) || 0));
    if (s < 60) {
      return s + ' 秒';
    }
    var minutes = Math.ceil(s / 60);
    if (minutes < 60) {
      return minutes + ' 分钟';
    }
    return Math.floor(minutes / 60) + ' 小时' + (minutes % 60 ? ' ' + (minutes % 60) + ' 分钟' : '');
  }

  /** Redraw both buttons: disabled while busy or counting down (the text shows the seconds left). */
  function tick() {
    var now = Date.now();
    var running = false;
    Object.keys(buttons).forEach(function (name) {
      var button = buttons[name];
      var left = button.endsAt > now ? Math.ceil((button.endsAt - now) / 1000) : 0;
      running = running || left > 0;
      button.element.disabled = button.busy || left > 0;
      button.element.textContent = left > 0 ? left + 's' : button.idle;
      button.element.dataset.left = String(left);
    });
    var left = delivery.voiceEndsAt > now ? Math.ceil((delivery.voiceEndsAt - now) / 1000) : 0;
    running = running || left > 0;
    var voice = $('voice');
    voice.hidden = !(voiceCodes && delivery.codeSent && (left === 0 || delivery.voiceByFailure || delivery.voiceCalled));
    voice.disabled = buttons.getSms.busy || left > 0;
    voice.textContent = TEXT.voiceOffer + (left > 0 ? (lang === 'en' ? ' (' + left + 's)' : '（' + left + 's）') : '');
    voice.dataset.left = String(left);
    $('delivery-row').hidden = !delivery.codeSent;
    if (running && timer === null) {
      timer = setInterval(tick, 1000);
    } else if (!running && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }

  /**
   * Count `method`'s button down from `seconds`. getSms: the voice button too, from the same
   * answer (an SMS's countdown, a voice call's own, or a limit's retryAfter: the limits are the phone's).
   */
  function countDown(method, seconds) {
    if (typeof seconds === 'number' && seconds > 0) {
      buttons[method].endsAt = Date.now() + Math.ceil(seconds) * 1000;
      if (method === 'getSms') {
        delivery.voiceEndsAt = buttons.getSms.endsAt;
      }
    }
    tick();
  }

  /** POST the parameters as JSON; resolve with { status, body } or { error }. */
  function call(params) {
    var url = $('api').value.trim();
    if (!url) {
      return Promise.resolve({ error: '请先填写函数地址' });
    }
    return fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(params),
      credentials: 'omit',
      cache: 'no-store'
    }).then(function (response) {
      return response.json().then(function (body) {
        return { status: response.status, body: body };
      }, function () {
        return { error: '服务返回异常（HTTP ' + response.status + '）' };
      });
    }, function () {
      // A CORS refusal looks the same as no network to the page.
      return { error: '网络连接失败，或函数未允许本页面的来源（ALLOWED_ORIGINS）' };
    });
  }

  /**
   * Show Tencent's captcha; `then({ ticket, randstr })` once it is passed. callback(res): ret 0 =
   * passed (ticket, randstr), 2 = closed by the user ("Web 客户端接入", cloud.tencent.com/document/product/1110/36841).
   */
  function solveCaptcha(codeStr, then) {
    if (!captchaAppId) {
      show('服务要求人机验证，但页面未配置 captchaAppId', 'error', codeStr);
      return;
    }
    if (typeof window.TencentCaptcha !== 'function') {
      show('人机验证组件（TJCaptcha.js）未能加载，请刷新重试', 'error', codeStr);
      return;
    }
    show(codeStr === 'CaptchaFailed' ? '人机验证未通过，请重新验证' : '请先完成人机验证', 'pending', codeStr);
    try {
      var captcha = new window.TencentCaptcha(captchaAppId, function (res) {
        if (res && res.ret === 0 && res.ticket) {
          then({ ticket: res.ticket, randstr: res.randstr });
        } else {
          show('已取消人机验证', 'error', 'CaptchaClosed');
        }
      }, { userLanguage: lang === 'en' ? 'en' : 'zh-cn' });
      captcha.show();
    } catch (e) {
      show('人机验证组件出错，请刷新重试', 'error', codeStr);
    }
  }

  /** One call of the protocol, with the captcha step when the function asks for it. */
  function run(method, params, extra) {
    var request = Object.assign({ method: method }, params, extra || {}, { lang: lang, verificationId: flowId(params.phone) });
    var scene = $('scene').value.trim();
    if (scene) {
      request.scene = scene;
    }
    buttons[method].busy = true;
    tick();
    show(method === 'login' ? '登录中…' : '发送中…', 'pending');
    return call(request).then(function (result) {
      buttons[method].busy = false;
      tick();
      if (result.error) {
        show(result.error, 'error', 'NetworkError');
        return;
      }
      var body = result.body || {};
      var codeStr = body.codeStr || '?';
      if (codeStr === 'CaptchaRequired' || codeStr === 'CaptchaFailed') {
        solveCaptcha(codeStr, function (answer) { run(method, params, answer); });
      } else if (codeStr === 'Ok') {
        show(body.channel === 'voice' ? TEXT.voiceSent : '验证码已发送，请注意查收短信', 'ok', codeStr);
        countDown('getSms', body.resendAfter);
        codeSent(body.channel === 'voice');
      } else if (codeStr === 'SmsSendTimeout') {
        show('短信可能稍有延迟，请留意查收', 'pending-sms', codeStr);
        countDown('getSms', body.resendAfter);
      } else if (WAIT_CODES.indexOf(codeStr) >= 0) {
        var wait = body.retryAfter ? '请 ' + formatWait(body.retryAfter) + '后再试' : '请稍后再试';
        show((body.msg || codeStr) + '，' + wait, 'error', codeStr);
        countDown(method, body.retryAfter);
      } else if (codeStr === 'CodeIsError' && body.attemptsLeft > 0) {
        show('验证码错误，还可尝试 ' + body.attemptsLeft + ' 次', 'error', codeStr);
      } else if (codeStr === 'CodeIsError' || codeStr === 'CodeHasExpired' || codeStr === 'CodeHasValid') {
        flow = null; // ask for a new code: a new flow
        forgetDelivery();
        $('code').value = '';
        show('验证码已失效，请重新获取', 'error', codeStr);
      } else if (codeStr === 'Success') {
        flow = null;
        forgetDelivery();
        show('登录成功', 'ok', codeStr);
        showToken(body);
        return sendToBackend(body);
      } else {
        show(codeStr + '：' + (body.msg || ''), 'error', codeStr);
      }
    });
  }

  /** A code went out (`byVoice`: by a call): show "未收到？" and watch its delivery for a while. */
  function codeSent(byVoice) {
    delivery.codeSent = true;
    delivery.voiceByFailure = false;
    delivery.voiceCalled = byVoice;
    showDelivery('', '');
    delivery.pollUntil = Date.now() + POLL_FOR_MS;
    schedulePoll();
    tick();
  }

  function forgetDelivery() {
    stopPolling();
    delivery.codeSent = false;
    delivery.voiceByFailure = false;
    delivery.voiceCalled = false;
    delivery.voiceEndsAt = 0;
    showDelivery('', '');
    tick();
  }

  /** data-delivery carries the state (sent, delivered, failed) or the codeStr of another answer. */
  function showDelivery(text, state) {
    $('delivery').textContent = text;
    $('delivery').dataset.delivery = state;
  }

  /** method=status for the current flow: show the next step. */
  function askStatus() {
    var phone = $('phone').value.trim();
    if (!delivery.codeSent || !flow || flow.phone !== phone) {
      return Promise.resolve();
    }
    var request = { method: 'status', phone: phone, verificationId: flow.id, lang: lang };
    var scene = $('scene').value.trim();
    if (scene) {
      request.scene = scene;
    }
    return call(request).then(function (result) {
      var body = result.body || {};
      if (result.error || body.codeStr !== 'Ok') {
        showDelivery(result.error || body.msg || body.codeStr, result.error ? 'NetworkError' : body.codeStr);
        if (body.codeStr === 'CodeHasExpired') { // expired or used: nothing more to ask
          flow = null;
          forgetDelivery();
        }
        return;
      }
      var voice = body.channel === 'voice';
      if (body.delivery === 'delivered') {
        stopPolling();
        showDelivery(voice ? TEXT.deliveredVoice : TEXT.delivered, body.delivery);
      } else if (body.delivery === 'failed') {
        stopPolling();
        var wait = body.resendAllowed === true || !(body.resendAfter > 0) ? 0 : body.resendAfter;
        buttons.getSms.endsAt = wait > 0 ? Date.now() + Math.ceil(wait) * 1000 : 0;
        delivery.voiceByFailure = body.otherChannel === true;
        // The SMS failed: a call is a resend by another route, taken at once. A failed call: its own wait.
        delivery.voiceEndsAt = delivery.voiceByFailure ? 0 : buttons.getSms.endsAt;
        showDelivery((voice ? TEXT.failedVoice : TEXT.failed) + (wait > 0 ? TEXT.resendIn(wait) : TEXT.resendNow) +
          (delivery.voiceByFailure ? TEXT.orVoice : ''), body.delivery);
        tick();
      } else {
        showDelivery(TEXT.sent, 'sent');
      }
    });
  }

  function schedulePoll() {
    stopPolling(true);
    delivery.pollTimer = setTimeout(function () {
      delivery.pollTimer = null;
      if (Date.now() < delivery.pollUntil && !$('code').value.trim() && delivery.codeSent) {
        askStatus().then(function () {
          if (delivery.pollUntil) {
            schedulePoll();
          }
        });
      }
    }, POLL_MS);
  }

  function stopPolling(keepDeadline) {
    if (delivery.pollTimer !== null) {
      clearTimeout(delivery.pollTimer);
      delivery.pollTimer = null;
    }
    if (!keepDeadline) {
      delivery.pollUntil = 0;
    }
  }

  /** The JSON of one base64url segment of a compact JWS (RFC 7515 section 2). */
  function decodeSegment(segment) {
    var base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) {
      base64 += '=';
    }
    var bytes = Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); });
    return JSON.parse(new TextDecoder('utf-8').decode(bytes));
  }

  function showToken(body) {
    var section = $('token-section');
    var claims = $('claims');
    if (typeof body.token !== 'string' || body.token.split('.').length !== 3) {
      claims.textContent = 'This answer carries no token (the function does not issue one).';
      claims.dataset.claims = '';
      section.hidden = false;
      return;
    }
    var parts = body.token.split('.');
    try {
      var header = decodeSegment(parts[0]);
      var payload = decodeSegment(parts[1]);
      claims.textContent = 'header: ' + JSON.stringify(header, null, 2) + '\npayload: ' + JSON.stringify(payload, null, 2) +
        '\n\ntokenType: ' + body.tokenType + ', expiresIn: ' + body.expiresIn + ' s';
      claims.dataset.claims = JSON.stringify(payload);
    } catch (e) {
      claims.textContent = 'The token could not be decoded for display.';
      claims.dataset.claims = '';
    }
    section.hidden = false;
  }

  /** GET the backend with "Authorization: Bearer <token>"; show what it says (it verifies the token). */
  function sendToBackend(body) {
    var out = $('backend');
    if (!backendUrl || typeof body.token !== 'string') {
      return Promise.resolve();
    }
    out.hidden = false;
    out.textContent = '正在把登录凭证交给后端…';
    return fetch(backendUrl, {
      headers: { Authorization: (body.tokenType || 'Bearer') + ' ' + body.token },
      cache: 'no-store'
    }).then(function (response) {
      return response.json().then(function (answer) {
        out.dataset.status = String(response.status);
        out.dataset.phone = response.ok && answer.phone ? answer.phone : '';
        out.textContent = response.ok ? '后端已确认登录：' + answer.phone : '后端拒绝了登录凭证（' + answer.error + '）';
      });
    }).catch(function () {
      out.dataset.status = '';
      out.textContent = '无法连接业务后端';
    });
  }

  $('send').addEventListener('click', function () {
    var phone = $('phone').value.trim();
    if (!phone) {
      show('请输入手机号码', 'error');
      return;
    }
    run('getSms', { phone: phone });
  });

  $('voice').addEventListener('click', function () {
    var phone = $('phone').value.trim();
    if (phone && delivery.codeSent) {
      run('getSms', { phone: phone, channel: 'voice' });
    }
  });

  $('not-received').addEventListener('click', function () {
    askStatus();
  });

  $('phone').addEventListener('input', function () {
    if (flow && flow.phone !== $('phone').value.trim()) {
      forgetDelivery(); // another phone: another flow
    }
  });

  $('login').addEventListener('click', function () {
    var phone = $('phone').value.trim();
    var code = $('code').value.trim();
    if (!phone || !code) {
      show(phone ? '请输入验证码' : '请输入手机号码', 'error');
      return;
    }
    run('login', { phone: phone, code: code });
  });

  tick();
}());
