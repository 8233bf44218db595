// smsverify H5 example: send a code, log in, show the token's claims.
// Plain ES2017, no framework, no build step. The token is only decoded for
// display: its signature is verified by the business backend, never here.
'use strict';

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var status = $('status');

  var fromQuery = new URLSearchParams(window.location.search).get('api');
  if (fromQuery) {
    $('api').value = fromQuery;
  }

  /** Show a message; data-code-str carries the answer's codeStr for tests and scripts. */
  function show(text, kind, codeStr) {
    status.textContent = text;
    status.className = kind || '';
    status.dataset.codeStr = codeStr || '';
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

  function withScene(params) {
    var scene = $('scene').value.trim();
    if (scene) {
      params.scene = scene;
    }
    return params;
  }

  function report(result) {
    if (result.error) {
      show(result.error, 'error', 'NetworkError');
      return null;
    }
    var body = result.body || {};
    var ok = body.codeStr === 'Ok' || body.codeStr === 'Success';
    var extra = body.retryAfter ? '（' + body.retryAfter + ' 秒后可重试）' : '';
    show((body.codeStr || '?') + '：' + (body.msg || '') + extra, ok ? 'ok' : 'error', body.codeStr);
    return body;
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

  $('send').addEventListener('click', function () {
    var phone = $('phone').value.trim();
    if (!phone) {
      show('请输入手机号码', 'error');
      return;
    }
    $('send').disabled = true;
    show('发送中…', 'pending');
    call(withScene({ method: 'getSms', phone: phone })).then(function (result) {
      var body = report(result);
      var wait = body && (body.resendAfter || body.retryAfter);
      if (!wait) {
        $('send').disabled = false;
        return;
      }
      var left = wait;
      $('send').textContent = left + 's';
      var timer = setInterval(function () {
        left -= 1;
        if (left <= 0) {
          clearInterval(timer);
          $('send').textContent = '获取验证码';
          $('send').disabled = false;
        } else {
          $('send').textContent = left + 's';
        }
      }, 1000);
    });
  });

  $('login').addEventListener('click', function () {
    var phone = $('phone').value.trim();
    var code = $('code').value.trim();
    if (!phone || !code) {
      show(phone ? '请输入验证码' : '请输入手机号码', 'error');
      return;
    }
    $('login').disabled = true;
    show('登录中…', 'pending');
    call(withScene({ method: 'login', phone: phone, code: code })).then(function (result) {
      $('login').disabled = false;
      var body = report(result);
      if (body && body.codeStr === 'Success') {
        showToken(body);
      }
    });
  });
}());
