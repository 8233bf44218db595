// Login with an SMS verification code, through utils/smsverify.js.
// Every outcome of the function arrives as a normalised result: the page
// shows result.message and follows result.action / result.cooldown.
// CaptchaRequired / CaptchaFailed (action 'captcha') show the Tencent Cloud
// Captcha plugin (<t-captcha id="captcha">); its verify event repeats the same
// call with ticket and randstr. After a login Success the token goes to the
// business backend (globalData.backendUrl) as "Authorization: Bearer <token>".
'use strict';

var smsverify = require('../../utils/smsverify.js');

var ACTIONS = smsverify.ACTIONS;
var TICK_MS = 1000;

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
    backendOk: false
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
    this.setData({ captchaAppId: globalData.captchaAppId ? String(globalData.captchaAppId) : '', lang: lang });
    this.token = null;
    this.sendEndsAt = 0;
    this.loginEndsAt = 0;
    this.timer = null;
  },

  onUnload: function () {
    this.stopTimer();
  },

  onPhoneInput: function (event) {
    this.setData({ phone: event.detail.value });
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
      : { method: 'getSms', phone: this.data.phone.trim() };
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
    return pending.method === 'login' ? this.check(pending.phone, pending.code, extra) : this.send(pending.phone, extra);
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
    this.setData({
      sendLeft: sendLeft,
      loginLeft: loginLeft,
      sendText: smsverify.sendButtonText(sendLeft),
      loginText: loginText(loginLeft)
    });
    if (sendLeft > 0 || loginLeft > 0) {
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
