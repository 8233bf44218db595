// The URL of the deployed smsverify function: the API Gateway path
// (https://service-xxxxxxxx-<appid>.<region>.apigw.tencentcs.com/release/sms)
// or the Function URL. Its domain must be in the mini-program's
// "request 合法域名" list (see README.md).
App({
  globalData: {
    smsverifyUrl: 'https://service-xxxxxxxx-1250000000.gz.apigw.tencentcs.com/release/sms'
  }
});
