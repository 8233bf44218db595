// Login with an SMS verification code, through utils/smsverify.js.
// Every outcome of the function arrives as a normalised result: the page
// shows result.message and follows result.action / result.cooldown.
// CaptchaRequired / CaptchaFailed (action 'captcha') show the Tencent Cloud
// Captcha plugin (<t-captcha id="captcha">); its verify event repeats the same
// call with ticket and randstr. After a login Success the token goes to the
// business backend (globalData.backendUrl) as "Authorization: Bearer <token>".
// After a code went out, "未收到？" asks the function where it stands (method=status;
// also asked every POLL_MS while the code field is empty, for POLL_FOR_MS at most)
// and shows the next step. With globalData.voiceCodes (the function has
// VOICE_SDKAPPID) the page offers the code by a phone call once the resend
// countdown has run out, or usable at once when the status says the SMS failed
// (the function takes a voice call inside the SMS's resend interval: a resend by
// another route). After a call was placed its button counts down the Ok's
// resendAfter, like the send button (a repeat of that call inside it is a replay).
'use strict';

var smsverify = require('../../utils/smsverify.js');

var ACTIONS = smsverify.ACTIONS;
var TICK_MS = 1000;
var POLL_MS = 5000;
var POLL_FOR_MS = 60000;

function messageType(result) {
  if (result.ok) {
    return result.action === ACTIONS.LOGGED_IN ? 'success' : 'info';
  }
  return result.action === ACTIONS.CHECK_SMS ? 'info' : 'error';
}

function loginText(left) {
  return left > 0 ? smsverify.formatWait(left) + '后可重试' : '登录';
}

Page({
  data: {
    phone: '',
    code: '',
    sending: false,
    loggingIn: false,
    loggedIn: false,
    sendLeft: 0,
    loginLeft: 0,
    sendText: smsverify.sendButtonText(0),
    loginText: loginText(0),
    message: '',
    messageType: '',
    captchaAppId: '',
    lang: 'zh-CN',
    captchaFor: '', // 'getSms' | 'login' while the captcha is shown for that call
    backendText: '',
    backendOk: false,
    voiceCodes: false, // the deployment has voice codes (globalData.voiceCodes)
    codeSent: false, // a code of this flow went out: "未收到？" is shown
    notReceivedText: smsverify.NOT_RECEIVED,
    deliveryText: '',
    voiceOffered: false,
    voiceText: smsverify.VOICE_OFFER,
    voiceLeft: 0, // seconds until the voice button takes a call
    calling: false
  },

  onLoad: function () {
    var globalData = getApp().globalData;
    var lang = globalData.lang === 'en' ? 'en' : 'zh-CN';
    this.client = smsverify.createClient({
      baseUrl: globalData.smsverifyUrl,
      scene: globalData.smsverifyScene || undefined,
      wechatLogin: Boolean(globalData.wechatLogin),
      lang: lang
    });
    this.backendUrl = globalData.backendUrl || null;
    this.captchaPending = null; // the call to repeat with the captcha's ticket
    this.setData({ captchaAppId: globalData.captchaAppId ? String(globalData.captchaAppId) : '', lang: lang,
      voiceCodes: Boolean(globalData.voiceCodes) });
    this.voiceByFailure = false; // the status said the SMS failed and voice codes exist: offer them now
    this.voiceCalled = false; // a voice call of this flow was placed: its button counts down
    this.voiceEndsAt = 0; // when the voice button takes a call (0: now)
    this.pollMs = POLL_MS;
    this.pollUntil = 0;
    this.pollTimer = null;
    this.token = null;
    this.sendEndsAt = 0;
    this.loginEndsAt = 0;
    this.timer = null;
  },

  onUnload: function () {
    this.stopTimer();
    this.stopPolling();
  },

  onPhoneInput: function (event) {
    if (event.detail.value.trim() !== this.data.phone.trim()) {
      this.stopPolling(); // another phone: another flow
      this.voiceByFailure = false;
      this.voiceCalled = false;
      this.voiceEndsAt = 0;
      this.setData({ codeSent: false, deliveryText: '' });
    }
    this.setData({ phone: event.detail.value });
    this.tick();
  },

  onCodeInput: function (event) {
    this.setData({ code: event.detail.value });
  },

  onGetSms: function () {
    if (this.data.sending || this.data.sendLeft > 0 || this.data.captchaFor) {
      return Promise.resolve();
    }
    var phone = this.data.phone.trim();
    if (!phone) {
      this.setData({ message: '请输入手机号码', messageType: 'error' });
      return Promise.resolve();
    }
    return this.send(phone, {});
  },

  /** getSms, with the captcha's { ticket, randstr } in `extra` when repeating after the captcha. */
  send: async function (phone, extra) {
    this.setData({ sending: true });
    var result = await this.client.getSms(phone, extra);
    this.setData({ sending: false });
    this.show(result);
    if (result.ok) {
      this.voiceCalled = false; // an SMS went out: the voice option waits for its countdown
    }
    if (result.cooldown) {
      this.voiceEndsAt = this.sendEndsAt; // and for a limit's retryAfter (the limits are the phone's)
    }
    this.afterSend(result);
  },

  /** "收不到短信？试试语音验证码": the same flow's code by a phone call. */
  onVoice: async function () {
    var phone = this.data.phone.trim();
    if (!this.data.voiceOffered || this.data.calling || this.data.voiceLeft > 0 || this.data.captchaFor || !phone) {
      return;
    }
    return this.call(phone, {});
  },

  /** getSms with channel=voice, with the captcha's { ticket, randstr } in `extra` when repeating after the captcha. */
  call: async function (phone, extra) {
    this.setData({ calling: true });
    this.voicePending = true;
    var result = await this.client.getVoiceCode(phone, extra);
    this.setData({ calling: false });
    if (result.cooldown) {
      // Ok: the call was placed, a repeat inside resendAfter would be a replay; or a limit's retryAfter.
      this.voiceEndsAt = smsverify.countdownEndsAt(result.cooldown, Date.now());
    }
    if (result.ok) {
      this.voiceCalled = true;
    }
    this.show(result);
    this.voicePending = false;
    this.afterSend(result);
  },

  /** A code went out (Ok): show "未收到？" and watch its delivery for a while. */
  afterSend: function (result) {
    if (!result.ok) {
      return;
    }
    this.voiceByFailure = false;
    this.setData({ codeSent: true, deliveryText: '' });
    this.pollUntil = Date.now() + POLL_FOR_MS;
    this.schedulePoll();
    this.tick();
  },

  /** "未收到？": ask where the code stands and show the next step. */
  onNotReceived: function () {
    return this.askStatus();
  },

  askStatus: async function () {
    var phone = this.data.phone.trim();
    if (!this.data.codeSent || !phone) {
      return;
    }
    var result = await this.client.status(phone);
    if (result.action !== ACTIONS.DELIVERY) {
      this.setData({ deliveryText: result.message });
      if (result.action === ACTIONS.NEW_CODE) {
        this.stopPolling();
        this.setData({ codeSent: false });
      }
      return;
    }
    var advice = smsverify.deliveryAdvice(result);
    if (result.delivery !== 'sent') {
      this.stopPolling(); // delivered or failed: nothing more to wait for
    }
    if (result.delivery === 'failed') {
      this.sendEndsAt = smsverify.countdownEndsAt(advice.resendAfter, Date.now());
      this.voiceByFailure = advice.offerVoice;
      // The SMS failed: a call is a resend by another route, taken at once. A failed call: its own wait.
      this.voiceEndsAt = advice.offerVoice ? 0 : this.sendEndsAt;
    }
    this.setData({ deliveryText: advice.text });
    this.tick();
  },

  schedulePoll: function () {
    var page = this;
    if (this.pollTimer !== null) {
      clearTimeout(this.pollTimer);
    }
    this.pollTimer = setTimeout(function () {
      page.pollTimer = null;
      if (Date.now() < page.pollUntil && !page.data.code.trim() && page.data.codeSent && !page.data.loggedIn) {
        page.askStatus().then(function () {
          if (page.pollUntil) {
            page.schedulePoll();
          }
        });
      }
    }, this.pollMs);
  },

  stopPolling: function () {
    if (this.pollTimer !== null) {
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
    this.pollUntil = 0;
  },

  onLogin: function () {
    if (this.data.loggingIn || this.data.loginLeft > 0 || this.data.captchaFor) {
      return Promise.resolve();
    }
    var phone = this.data.phone.trim();
    var code = this.data.code.trim();
    if (!phone || !code) {
      this.setData({ message: phone ? '请输入验证码' : '请输入手机号码', messageType: 'error' });
      return Promise.resolve();
    }
    return this.check(phone, code, {});
  },

  /** login, with the captcha's { ticket, randstr } in `extra` when repeating after the captcha. */
  check: async function (phone, code, extra) {
    this.setData({ loggingIn: true });
    var result = await this.client.login(phone, code, extra);
    this.setData({ loggingIn: false });
    this.show(result);
    if (result.ok) {
      wx.showToast({ title: '登录成功', icon: 'success' });
      // The signed token (when the function issues one) goes to the business
      // backend, which verifies it against the function's JWKS. The page never
      // trusts its content itself.
      this.token = this.client.getToken();
      await this.callBackend();
    }
  },

  /** The function asked for a captcha ticket: show the plugin, remember the call to repeat. */
  askCaptcha: function (result) {
    if (!this.data.captchaAppId) {
      this.setData({ message: '服务要求人机验证，但小程序未配置 captchaAppId', messageType: 'error' });
      return;
    }
    this.captchaPending = result.method === 'login'
      ? { method: 'login', phone: this.data.phone.trim(), code: this.data.code.trim() }
      : { method: 'getSms', phone: this.data.phone.trim(), voice: Boolean(this.voicePending) };
    this.setData({ captchaFor: result.method });
    this.selectComponent('#captcha').show();
  },

  /** The plugin's verify event: detail { ret (0 = passed), ticket, randstr }. */
  onCaptchaVerify: function (event) {
    var detail = (event && event.detail) || {};
    var pending = this.captchaPending;
    this.captchaPending = null;
    this.setData({ captchaFor: '' });
    if (!pending) {
      return Promise.resolve();
    }
    if (detail.ret !== 0 || !detail.ticket) {
      this.setData({ message: '人机验证未通过，请重试', messageType: 'error' });
      return Promise.resolve();
    }
    var extra = { ticket: detail.ticket, randstr: detail.randstr };
    if (pending.method === 'login') {
      return this.check(pending.phone, pending.code, extra);
    }
    return pending.voice ? this.call(pending.phone, extra) : this.send(pending.phone, extra);
  },

  onCaptchaClose: function () {
    if (this.data.captchaFor) {
      this.setData({ captchaFor: '', message: '已取消人机验证', messageType: 'info' });
    }
  },

  onCaptchaError: function () {
    this.captchaPending = null;
    this.setData({ captchaFor: '', message: '人机验证加载失败，请稍后重试', messageType: 'error' });
  },

  /** Send the kept token to backendUrl (GET, Authorization: Bearer); show what the backend says. */
  callBackend: function () {
    var page = this;
    var token = this.token;
    if (!this.backendUrl || !token) {
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      wx.request({
        url: page.backendUrl,
        method: 'GET',
        header: { Authorization: token.tokenType + ' ' + token.token },
        dataType: 'json',
        success: function (response) {
          var body = response.data || {};
          if (response.statusCode === 200 && body.phone) {
            page.setData({ backendText: '后端已确认登录：' + body.phone, backendOk: true });
          } else {
            page.setData({ backendText: '后端拒绝了登录凭证（' + (body.error || response.statusCode) + '）', backendOk: false });
          }
          resolve();
        },
        fail: function () {
          page.setData({ backendText: '无法连接业务后端', backendOk: false });
          resolve();
        }
      });
    });
  },

  show: function (result) {
    var now = Date.now();
    if (result.cooldown) {
      if (result.method === 'login') {
        this.loginEndsAt = smsverify.countdownEndsAt(result.cooldown, now);
      } else {
        this.sendEndsAt = smsverify.countdownEndsAt(result.cooldown, now);
      }
    }
    var patch = { message: result.message, messageType: messageType(result) };
    if (result.action === ACTIONS.NEW_CODE || result.action === ACTIONS.LOGGED_IN) {
      patch.code = '';
    }
    if (result.action === ACTIONS.LOGGED_IN) {
      patch.loggedIn = true;
      patch.codeSent = false;
      this.stopPolling();
    }
    if (result.action === ACTIONS.NEW_CODE) {
      patch.codeSent = false;
      this.stopPolling();
    }
    this.setData(patch);
    this.tick();
    if (result.action === ACTIONS.CAPTCHA) {
      this.askCaptcha(result);
    }
  },

  tick: function () {
    var now = Date.now();
    var sendLeft = smsverify.secondsLeft(this.sendEndsAt, now);
    var loginLeft = smsverify.secondsLeft(this.loginEndsAt, now);
    var voiceLeft = smsverify.secondsLeft(this.voiceEndsAt, now);
    var voiceOffered = this.data.voiceCodes && this.data.codeSent && (voiceLeft === 0 || this.voiceByFailure || this.voiceCalled);
    this.setData({
      sendLeft: sendLeft,
      loginLeft: loginLeft,
      sendText: smsverify.sendButtonText(sendLeft),
      loginText: loginText(loginLeft),
      voiceOffered: voiceOffered,
      voiceLeft: voiceLeft,
      voiceText: voiceLeft > 0 ? smsverify.VOICE_OFFER + '（' + voiceLeft + 's）' : smsverify.VOICE_OFFER
    });
    if (sendLeft > 0 || loginLeft > 0 || voiceLeft > 0) {
      this.startTimer();
    } else {
      this.stopTimer();
    }
  },

  startTimer: function () {
    if (this.timer === null) {
      var page = this;
      this.timer = setInterval(function () {
        page.tick();
      }, TICK_MS);
    }
  },

  stopTimer: function () {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
});
