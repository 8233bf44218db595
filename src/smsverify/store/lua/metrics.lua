-- The conversion counters on their own slot (Redis Cluster mode, where the
-- counter hashes and conversion windows, tagged {metrics}, are not on the
-- phone's slot; smsverify.store.metrics). On a single node send.lua,
-- release.lua, check.lua and receipt.lua do the same in their own step.
-- KEYS[1] the counter hash {metrics}:<YYYYMMDD> of the bucket's day
-- KEYS[2] the block's conversion window {metrics}:conversion:<block>
-- ARGV[1] mode  ARGV[2] now (ms)  ARGV[3] bucket 'YYYYMMDD|HH|block|provider|scene'
-- ARGV[4] price (millionths of a CNY)
-- 'send'     ARGV[5] '1' judged by conversion  ARGV[6] '1' a verified ticket  ARGV[7] captcha
--            ('0' not configured): judge the block as send.lua does, and unless it refuses count
--            the send. Returns {'OK'}, {'STEPUP', 'CONVERSION'} or {'CONVERSION', wait ms},
--            each followed by send.lua's notes ('PUMP' ..., 'SPEND').
-- 'unsend'   ARGV[5] '1' judged: give a counted send back (a refusal or a release after it).
-- 'verified' count a consumed code (check.lua answered its bucket).
-- Returns {'OK'} but for 'send'.
local mode = ARGV[1]
local now = tonumber(ARGV[2])
local bucket = ARGV[3]
local price = tonumber(ARGV[4] or '0')
local _, sent = bucket_field(bucket, 'sent')
local hour = string.sub(bucket, 10, 11)
if mode == 'verified' then
  count_verified(bucket, KEYS[1], KEYS[1], KEYS[2])
  return {'OK'}
end
local judged = ARGV[5] == '1' and PUMPING_WINDOW_SENDS > 0
if mode == 'unsend' then
  count_metric(KEYS[1], sent, -1)
  count_spend(KEYS[1], hour, -price)
  if judged then
    pump_send(KEYS[2], -1, false)
  end
  return {'OK'}
end
local pump = nil
if judged then
  pump = pump_judge(KEYS[2], now)
  if pump.state == 'blocked' then
    return with_notes({'CONVERSION', pump.wait}, pump)
  end
  if pump.state == 'stepup' and ARGV[7] ~= '0' and ARGV[6] ~= '1' then
    return with_notes({'STEPUP', 'CONVERSION'}, pump)
  end
end
count_metric(KEYS[1], sent, 1)
local spend = count_spend(KEYS[1], hour, price)
if judged then
  pump_send(KEYS[2], 1, pump.state ~= '')
end
return with_notes({'OK'}, pump, spend)
