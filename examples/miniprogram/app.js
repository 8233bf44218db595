// The URL of the deployed smsverify function: the API Gateway path
// (https://service-xxxxxxxx-<appid>.<region>.apigw.tencentcs.com/release/sms)
// or the Function URL. Its domain must be in the mini-program's
// "request 合法域名" list (see README.md).
//
// captchaAppId: the CaptchaAppId of a mini-program captcha (Captcha console),
// the function's CAPTCHA_APP_ID; the page shows the t-captcha plugin when the
// function answers CaptchaRequired / CaptchaFailed. null: no captcha.
// backendUrl: your backend's endpoint that takes the login token as
// "Authorization: Bearer <token>" (examples/backend-node: .../me); null: not called.
// smsverifyScene: the purpose of the codes this page asks for ('login' unless
// the function's SMS_SCENES says otherwise); null sends none (the default scene).
// wechatLogin: true when the function has WECHAT_APP_ID / WECHAT_APP_SECRET;
// each login then sends a wx.login code and the token names the WeChat user.
// lang: the language sent to the function and to the captcha ('zh-CN' or 'en').
// voiceCodes: true when the function has voice codes (VOICE_SDKAPPID): the page
// then offers "收不到短信？试试语音验证码" (without it the function refuses them).
App({
  globalData: {
    smsverifyUrl: 'https://service-xxxxxxxx-1250000000.gz.apigw.tencentcs.com/release/sms',
    captchaAppId: null,
    backendUrl: null,
    smsverifyScene: null,
    wechatLogin: false,
    lang: 'zh-CN',
    voiceCodes: false
  }
});
