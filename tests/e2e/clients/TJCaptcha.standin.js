// A local stand-in for https://turing.captcha.qcloud.com/TJCaptcha.js (Tencent Cloud Captcha 2.0),
// served by tests/e2e/browser/h5-captcha.test.js in place of the real script (no machine here
// reaches it). Same surface as the real one ("Web 客户端接入",
// cloud.tencent.com/document/product/1110/36841): `new TencentCaptcha(CaptchaAppId, callback,
// options).show()`, then callback({ ret: 0, ticket, randstr, CaptchaAppId, bizState }) once
// "solved". The ticket comes from the test's page server (POST /__captcha-standin/ticket), which
// hands out tickets the Captcha API emulator issued, so only the emulator decides whether it passes.
'use strict';

(function () {
  function TencentCaptcha(appId, callback, options) {
    if (!(this instanceof TencentCaptcha)) {
      throw new TypeError('TencentCaptcha is a constructor');
    }
    if (typeof callback !== 'function') {
      throw new TypeError('TencentCaptcha needs a callback');
    }
    this.appId = String(appId);
    this.callback = callback;
    this.options = options || {};
  }

  TencentCaptcha.prototype.show = function () {
    var self = this;
    window.captchaStandin.shows.push({ appId: self.appId, options: self.options });
    fetch('/__captcha-standin/ticket', { method: 'POST', body: JSON.stringify({ appId: self.appId }) })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('no ticket for this CaptchaAppId');
        }
        return response.json();
      })
      .then(function (issued) {
        self.callback({ ret: 0, ticket: issued.ticket, randstr: issued.randstr, CaptchaAppId: self.appId, bizState: self.options.bizState });
      }, function () {
        self.callback({ ret: 2, CaptchaAppId: self.appId, bizState: self.options.bizState }); // as if closed by the user
      });
  };

  TencentCaptcha.prototype.destroy = function () {};

  window.captchaStandin = { shows: [] };
  window.TencentCaptcha = TencentCaptcha;
}());
