// The URL of the deployed smsverify function: the API Gateway path
// (https://service-xxxxxxxx-<appid>.<region>.apigw.tencentcs.com/release/sms)
// or the Function URL. Its domain must be in the mini-program's
// "request 合法域名" list (see README.md).
//
// smsverifyScene: the purpose of the codes this page asks for ('login' unless
// the function's SMS_SCENES says otherwise); null sends none (the default scene).
// wechatLogin: true when the function has WECHAT_APP_ID / WECHAT_APP_SECRET;
// each login then sends a wx.login code and the token names the WeChat user.
App({
  globalData: {
    smsverifyUrl: 'https://service-xxxxxxxx-1250000000.gz.apigw.tencentcs.com/release/sms',
    smsverifyScene: null,
    wechatLogin: false
  }
});
