-- Reserve one getSms: check every limit, then count it and store the code,
-- all or nothing.
-- KEYS[1] code hash      {phone}:code     fields d (HMAC hex), n (wrong tries), x (expiry ms), m (reservation id),
--          and while a resend's outcome is unknown its pending code pd, pn, px, pm (see lib.lua)
-- KEYS[2] cooldown       {phone}:cooldown value "<until ms>:<reservation id>"
-- KEYS[3] hourly log     {phone}:hour     sorted set (sliding window)
-- KEYS[4] daily counter  {phone}:day:<YYYYMMDD, Asia/Shanghai>
-- KEYS[5] per-IP log     {ip:<addr>}:sends      only when ARGV[12] ~= '0'
-- KEYS[6] global log     {global}:sends         only when ARGV[14] ~= '0'
-- KEYS[7] breaker marker {global}:tripped       only when ARGV[14] ~= '0'
-- KEYS[8]  prefix log     {prefix:<cc>:<digits>}:sends only when ARGV[16] > 0 (before the health keys)
-- KEYS[9..] provider health {global}:provider:<name>:down, ARGV[15] of them
--          (the last ARGV[15] KEYS whatever their number, see ok_with_health)
-- ARGV[1]  now (ms)            ARGV[2]  reservation id     ARGV[3]  code HMAC (hex)
-- ARGV[4]  code TTL (ms)       ARGV[5]  cooldown (ms)      ARGV[6]  hourly limit
-- ARGV[7]  daily limit         ARGV[8]  daily key TTL (ms) ARGV[9]  ms until the day ends
-- ARGV[10] hour window (ms)    ARGV[11] IP window (ms)     ARGV[12] IP limit (0: no IP step)
-- ARGV[13] global window (ms)  ARGV[14] global limit (0: no global step)
-- ARGV[15] number of provider health keys (0 without failover)
-- ARGV[16] prefix limit (0 or absent: no prefix step)  ARGV[17] prefix window (ms)
-- ARGV[18] global hard limit (GLOBAL_SEND_HARD_LIMIT; absent or below ARGV[14]: = ARGV[14])
-- ARGV[19] '1' when a verified captcha ticket came with the request
-- ARGV[20] '1' for step-up (CAPTCHA_MODE=adaptive): past ARGV[14], no ticket -> STEPUP
-- ARGV[21] max wrong tries per code (a code that reached it is no longer valid; absent: no cap)
-- Returns {'OK' | 'PENDING', skip flag per provider} or {reason, wait ms[, first trip]} with reason
-- one of COOLDOWN, DAILY, HOURLY, IP, PREFIX, STEPUP, GLOBAL; nothing is written on a refusal.
-- The code: with no valid code in the hash it becomes the current code ('OK'). Beside a
-- valid one (a resend) it is stored as the pending code ('PENDING'), so that a resend whose
-- SMS is refused never costs the user the code they have: the caller promotes it
-- (settle.lua) once the provider accepted, drops it (settle.lua / release.lua) when the
-- provider refused, and leaves both valid when the outcome is unknown. A pending code
-- left from such an unknown outcome is replaced; if the current code is no longer valid,
-- that pending code becomes the current one first.
local now = tonumber(ARGV[1])
local member = ARGV[2]
local providers = tonumber(ARGV[15] or '0')
local code = redis.call('HMGET', KEYS[1], 'm', 'pm', 'd', 'x', 'n', 'pd', 'px', 'pn')
if code[1] == member or code[2] == member then
  -- a retried call (e.g. after a dropped connection) of a reservation already made
  return ok_with_health(providers, now, code[2] == member and 'PENDING' or 'OK')
end
local cooldown = redis.call('GET', KEYS[2])
if cooldown then
  local until_ms = tonumber(string.sub(cooldown, 1, string.find(cooldown, ':', 1, true) - 1))
  if until_ms > now then
    return {'COOLDOWN', until_ms - now}
  end
end
local daily = tonumber(redis.call('GET', KEYS[4]) or '0')
if daily >= tonumber(ARGV[7]) then
  return {'DAILY', tonumber(ARGV[9])}
end
local hour_window = tonumber(ARGV[10])
local hourly, hourly_wait = window_state(KEYS[3], now, hour_window)
if hourly >= tonumber(ARGV[6]) then
  return {'HOURLY', hourly_wait}
end
local ip_limit = tonumber(ARGV[12])
local ip_window = tonumber(ARGV[11])
if ip_limit > 0 then
  local count, wait = window_state(KEYS[5], now, ip_window)
  if count >= ip_limit then
    return {'IP', wait}
  end
end
local prefix_limit = tonumber(ARGV[16] or '0')
local prefix_wait = window_full(KEYS[8], now, tonumber(ARGV[17] or '0'), prefix_limit)
if prefix_wait then
  return {'PREFIX', prefix_wait}
end
local global_limit = tonumber(ARGV[14])
local global_window = tonumber(ARGV[13])
if global_limit > 0 then
  local count, wait = window_state(KEYS[6], now, global_window)
  local verdict = stepped_verdict(count, global_limit, tonumber(ARGV[18] or '0'), ARGV[19] == '1', ARGV[20] == '1')
  if verdict then
    return {verdict == 'STEPUP' and 'STEPUP' or 'GLOBAL', wait, first_trip(KEYS[7], now, global_window)}
  end
end

-- Every limit passed: count this send everywhere and store the code.
local interval = tonumber(ARGV[5])
if interval > 0 then
  redis.call('SET', KEYS[2], tostring(now + interval) .. ':' .. member, 'PX', interval)
else
  redis.call('DEL', KEYS[2])
end
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[8])
window_add(KEYS[3], now, hour_window, member)
if ip_limit > 0 then
  window_add(KEYS[5], now, ip_window, member)
end
if global_limit > 0 then
  window_add(KEYS[6], now, global_window, member)
end
if prefix_limit > 0 then
  window_add(KEYS[8], now, tonumber(ARGV[17]), member)
end
local ttl = tonumber(ARGV[4])
local max_wrong = tonumber(ARGV[21] or '0')
local function valid(d, x, n)
  return d and d ~= '' and tonumber(x) > now and (max_wrong <= 0 or tonumber(n) < max_wrong)
end
local keep = valid(code[3], code[4], code[5])
if not keep and valid(code[6], code[7], code[8]) then
  redis.call('HSET', KEYS[1], 'd', code[6], 'n', code[8], 'x', code[7], 'm', code[2])
  keep = true
end
if keep then
  redis.call('HSET', KEYS[1], 'pd', ARGV[3], 'pn', 0, 'px', now + ttl, 'pm', member)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return ok_with_health(providers, now, 'PENDING')
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[3], 'n', 0, 'x', now + ttl, 'm', member)
redis.call('PEXPIRE', KEYS[1], ttl)
return ok_with_health(providers, now)
