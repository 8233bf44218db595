// Login with an SMS verification code, through utils/smsverify.js.
// Every outcome of the function arrives as a normalised result: the page
// shows result.message and follows result.action / result.cooldown.
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
    messageType: ''
  },

  onLoad: function () {
    var globalData = getApp().globalData;
    this.client = smsverify.createClient({
      baseUrl: globalData.smsverifyUrl,
      scene: globalData.smsverifyScene || undefined,
      wechatLogin: Boolean(globalData.wechatLogin)
    });
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

  onGetSms: async function () {
    if (this.data.sending || this.data.sendLeft > 0) {
      return;
    }
    var phone = this.data.phone.trim();
    if (!phone) {
      this.setData({ message: '请输入手机号码', messageType: 'error' });
      return;
    }
    this.setData({ sending: true });
    var result = await this.client.getSms(phone);
    this.setData({ sending: false });
    this.show(result);
  },

  onLogin: async function () {
    if (this.data.loggingIn || this.data.loginLeft > 0) {
      return;
    }
    var phone = this.data.phone.trim();
    var code = this.data.code.trim();
    if (!phone || !code) {
      this.setData({ message: phone ? '请输入验证码' : '请输入手机号码', messageType: 'error' });
      return;
    }
    this.setData({ loggingIn: true });
    var result = await this.client.login(phone, code);
    this.setData({ loggingIn: false });
    this.show(result);
    if (result.ok) {
      wx.showToast({ title: '登录成功', icon: 'success' });
      // The signed token (when the function issues one): send it to your own
      // backend as "Authorization: Bearer <token>"; the backend verifies it
      // against the function's JWKS. The page never trusts its content itself.
      this.token = this.client.getToken();
    }
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
