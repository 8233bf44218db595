-- Reserve one getSms: check every limit, then count it and store the code,
-- all or nothing. The limits are the policy constants (redis_store.policy_lua).
-- KEYS[1] code hash      legacy {phone}:code[:<scene>] or bound {phone}:vcode:<scene>:<verificationId>;
--          fields d (HMAC hex), n (wrong tries), x (expiry ms), m (reservation id), and while a
--          resend's outcome is unknown its pending code pd, pn, px, pm (see lib.lua); a bound
--          code also c (its resend interval ends, ms), ch (the channel of that send: sms | voice)
--          and p (the provider that sent it, settle.lua)
-- KEYS[2] send record    {phone}:sends    the phone's send limits in one hash (see read_sends in lib.lua)
-- KEYS[3] client log     {ip:<client>}:sends       only when ARGV[6] > 0
-- KEYS[4] site log       {site:<prefix>}:sends     only when ARGV[7] = '1'
-- KEYS[5] prefix log     {prefix:<cc>:<digits>}:sends only when ARGV[8] = '1'
-- KEYS[6] global log     {global}:sends         only when ARGV[9] = '1'
-- KEYS[7] quota marker   {global}:tripped       only when ARGV[9] = '1'
-- KEYS[8] counter hash    {metrics}:<YYYYMMDD> of ARGV[15]'s day   only when ARGV[16] = '1'
-- KEYS[9] conversion window {metrics}:conversion:<block>          only when ARGV[16] = '1'
-- KEYS[10..] provider health {global}:provider:<name>:down, ARGV[10] of them (the last KEYS)
-- ARGV[1] now (ms)   ARGV[2] reservation id (the idempotency key of the store's retries)
-- ARGV[3] code HMAC (hex)   ARGV[4] ms until the day ends   ARGV[5] the day (YYYYMMDD, Asia/Shanghai)
-- ARGV[6] this client's send limit per IP_SEND_WINDOW_MS (0: no client step)
-- ARGV[7] '1': the IPv6 site step (IPV6_SITE_SEND_LIMIT per IP_SEND_WINDOW_MS)
-- ARGV[8] '1': the prefix step    ARGV[9] '1': the global step (single node; in cluster
--          mode window.lua ran the client, site, prefix and global steps)
-- ARGV[10] number of provider health keys   ARGV[11] '1': a verified captcha ticket came
-- ARGV[12] captcha: '0' not configured, '1' configured (reached limits step up),
--          '2' a ticket is required for this request (CAPTCHA_MODE=always, no client IP)
-- ARGV[13] '1': KEYS[1] is a bound code (its own resend interval; no phone cooldown)
-- ARGV[14] '1': a voice code (channel=voice): also VOICE_DAILY_LIMIT, counted in the record's voice field
-- ARGV[15] the send's bucket 'YYYYMMDD|HH|block|provider|scene' (smsverify.store.metrics; '' none),
--          kept in the code hash as field b (check.lua counts a verification there)
-- ARGV[16] '1': count the send here (single node: KEYS[8], KEYS[9]); '0': metrics.lua does (cluster)
-- ARGV[17] the send's price, millionths of a CNY (SPEND_ALERT_MICRO)
-- ARGV[18] '1': the block is judged by its conversion (pumping; PUMPING_ALLOW_PREFIXES exempts)
-- Returns {'OK' | 'PENDING', skip flag per provider}, {'REPLAY', provider} (a bound code's
-- getSms repeated inside its resend interval: nothing written), {'STEPUP', limit word or ''}
-- (a ticket would pass; nothing written) or {reason, wait ms[, first trip]} with reason one of
-- COOLDOWN, DAILY, HOURLY, IP, SITE, PREFIX, GLOBAL, CONVERSION; nothing is written on a refusal
-- but a change of the block's conversion state. Notes may follow any reply (lib.lua
-- with_notes): 'PUMP', old state, new state, sends, verified when the block's state
-- changed; 'SPEND' when this send took the hour past SPEND_ALERT_MICRO.
-- The code: with no valid code in the hash it becomes the current code ('OK'). Beside a
-- valid one (a resend) it is stored as the pending code ('PENDING'), so that a resend whose
-- SMS is refused never costs the user the code they have: the caller promotes it
-- (settle.lua) once the provider accepted, drops it (settle.lua / release.lua) when the
-- provider refused, and leaves both valid when the outcome is unknown. A pending code
-- left from such an unknown outcome is replaced; if the current code is no longer valid,
-- that pending code becomes the current one first.
local now = tonumber(ARGV[1])
local member = ARGV[2]
local providers = tonumber(ARGV[10])
local bound = ARGV[13] == '1'
local code = redis.call('HMGET', KEYS[1], 'm', 'pm', 'd', 'x', 'n', 'pd', 'px', 'pn', 'c', 'p', 'ch')
if code[1] == member or code[2] == member then
  -- a retried call (e.g. after a dropped connection) of a reservation already made
  return ok_with_health(providers, now, code[2] == member and 'PENDING' or 'OK')
end
local channel = ARGV[14] == '1' and 'voice' or 'sms'
if bound and code[9] and tonumber(code[9]) > now and (code[11] or 'sms') == channel then
  -- the same request again inside the verification's resend interval; another channel (a voice
  -- call after the SMS) is a resend by another route, judged by the limits below
  return {'REPLAY', code[10] or ''}
end
local sends = read_sends(KEYS[2], now, ARGV[5])
if sends.backoff_until > now then
  return {'COOLDOWN', sends.backoff_until - now}
end
if not bound and sends.cooldown_until > now then
  return {'COOLDOWN', sends.cooldown_until - now}
end
local ms_to_day_end = tonumber(ARGV[4])
local ticket = ARGV[11] == '1'
local limits = {
  {reason = 'DAILY', count = sends.daily, soft = DAILY_SEND_LIMIT, hard = hard_cap(DAILY_SEND_LIMIT, PHONE_HARD_LIMIT_FACTOR)},
  {reason = 'HOURLY', count = #sends.hourly, soft = HOURLY_SEND_LIMIT, hard = hard_cap(HOURLY_SEND_LIMIT, PHONE_HARD_LIMIT_FACTOR)},
}
local voice = ARGV[14] == '1'
if voice then  -- a stricter limit of its own, never stepped up: a call is dearer than an SMS
  limits[#limits + 1] = {reason = 'DAILY', count = sends.voice, soft = VOICE_DAILY_LIMIT, hard = VOICE_DAILY_LIMIT}
end
local client_limit = tonumber(ARGV[6])
if client_limit > 0 then
  limits[#limits + 1] = {reason = 'IP', key = KEYS[3], window = IP_SEND_WINDOW_MS,
                         count = window_count(KEYS[3], now, IP_SEND_WINDOW_MS), soft = client_limit, hard = hard_cap(client_limit, CLIENT_HARD_LIMIT_FACTOR)}
end
local site_step = ARGV[7] == '1' and IPV6_SITE_SEND_LIMIT > 0
if site_step then
  limits[#limits + 1] = {reason = 'SITE', key = KEYS[4], window = IP_SEND_WINDOW_MS,
                         count = window_count(KEYS[4], now, IP_SEND_WINDOW_MS),
                         soft = IPV6_SITE_SEND_LIMIT, hard = hard_cap(IPV6_SITE_SEND_LIMIT, CLIENT_HARD_LIMIT_FACTOR)}
end
local prefix_step = ARGV[8] == '1' and PREFIX_SEND_LIMIT > 0
if prefix_step then  -- a destination block's limit binds no client: it refuses, never steps up
  limits[#limits + 1] = {reason = 'PREFIX', key = KEYS[5], window = PREFIX_SEND_WINDOW_MS,
                         count = window_count(KEYS[5], now, PREFIX_SEND_WINDOW_MS),
                         soft = PREFIX_SEND_LIMIT, hard = PREFIX_SEND_LIMIT}
end
local global_step = ARGV[9] == '1' and GLOBAL_SEND_LIMIT > 0
if global_step then
  limits[#limits + 1] = {reason = 'GLOBAL', key = KEYS[6], window = GLOBAL_SEND_WINDOW_MS,
                         count = window_count(KEYS[6], now, GLOBAL_SEND_WINDOW_MS),
                         soft = GLOBAL_SEND_LIMIT, hard = CAPTCHA and math.max(GLOBAL_SEND_HARD_LIMIT, GLOBAL_SEND_LIMIT) or GLOBAL_SEND_LIMIT}
end
-- Pumping caught by conversion (single node; in cluster mode metrics.lua judged it):
-- a stepped-up block asks for a ticket (with captcha configured), a blocked one refuses.
local tally = ARGV[15] or ''
local here = tally ~= '' and ARGV[16] == '1'
local judged = here and ARGV[18] == '1' and PUMPING_WINDOW_SENDS > 0
local pump = nil
if judged then
  pump = pump_judge(KEYS[9], now)
  if pump.state == 'blocked' then
    limits[#limits + 1] = {reason = 'CONVERSION', count = 1, soft = 1, hard = 1, wait = pump.wait}
  elseif pump.state == 'stepup' and CAPTCHA then
    limits[#limits + 1] = {reason = 'CONVERSION', count = 1, soft = 1, hard = 2}
  end
end
local verdict = judge(limits, ticket, CAPTCHA and ARGV[12] == '2')
if verdict and verdict[1] == 'STEPUP' then
  return with_notes({'STEPUP', verdict[2] and verdict[2].reason or ''}, pump)
end
if verdict then
  local l = verdict[2]
  if l.reason == 'DAILY' then
    return with_notes({'DAILY', ms_to_day_end}, pump)
  end
  if l.reason == 'HOURLY' then  -- until enough entries leave for the count to fall below the cap
    local entry = sends.hourly[l.count - l.hard + 1]
    return with_notes({'HOURLY', entry and entry[1] + HOUR_MS - now or HOUR_MS}, pump)
  end
  if l.reason == 'CONVERSION' then
    return with_notes({'CONVERSION', l.wait}, pump)
  end
  local reply = {l.reason, window_wait(l.key, now, l.window)}
  if l.reason == 'GLOBAL' then
    reply[3] = first_trip(KEYS[7], now, GLOBAL_SEND_WINDOW_MS)
  end
  return with_notes(reply, pump)
end

-- Every limit passed: count this send everywhere and store the code.
sends.hourly[#sends.hourly + 1] = {now, member}
local cooldown = sends.cooldown or ''
if not bound then
  cooldown = SEND_INTERVAL_MS > 0 and (now + SEND_INTERVAL_MS) .. ':' .. member or ''
end
write_sends(KEYS[2], cooldown, ARGV[5] .. ':' .. (sends.daily + 1), sends.hourly,
            math.max(ms_to_day_end + HOUR_MS, SEND_INTERVAL_MS))
if voice then
  redis.call('HSET', KEYS[2], 'voice', ARGV[5] .. ':' .. (sends.voice + 1))
end
for _, l in ipairs(limits) do
  if l.key then
    window_add(l.key, now, l.window, member)
  end
end
local spend = false
if here then  -- the conversion counters (smsverify.store.metrics)
  local _, field = bucket_field(tally, 'sent')
  count_metric(KEYS[8], field, 1)
  spend = count_spend(KEYS[8], string.sub(tally, 10, 11), tonumber(ARGV[17]))
  if judged then
    pump_send(KEYS[9], 1, pump.state ~= '')
  end
end
-- more fields for the code's HSET: the bucket of the code's send (for check.lua), and a bound
-- code's resend interval and channel
local b = tally ~= '' and {'b', tally} or {}
if bound and SEND_INTERVAL_MS > 0 then
  b[#b + 1], b[#b + 2], b[#b + 3], b[#b + 4] = 'c', now + SEND_INTERVAL_MS, 'ch', channel
end
local function valid(d, x, n)
  return d and d ~= '' and tonumber(x) > now and (MAX_VERIFY_ATTEMPTS <= 0 or tonumber(n) < MAX_VERIFY_ATTEMPTS)
end
local word = 'OK'
local keep = valid(code[3], code[4], code[5])
if not keep and valid(code[6], code[7], code[8]) then
  redis.call('HSET', KEYS[1], 'd', code[6], 'n', code[8], 'x', code[7], 'm', code[2])
  keep = true
end
if keep then
  redis.call('HSET', KEYS[1], 'pd', ARGV[3], 'pn', 0, 'px', now + CODE_TTL_MS, 'pm', member, unpack(b))
  word = 'PENDING'
else
  if code[1] or code[2] or code[3] or code[6] then
    redis.call('DEL', KEYS[1])  -- an old code and its attempt records go
  end
  redis.call('HSET', KEYS[1], 'd', ARGV[3], 'n', 0, 'x', now + CODE_TTL_MS, 'm', member, unpack(b))
end
redis.call('PEXPIRE', KEYS[1], CODE_TTL_MS)
return with_notes(ok_with_health(providers, now, word), pump, spend)
