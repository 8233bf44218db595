-- Reserve one getSms: check every limit, then count it and store the code,
-- all or nothing. The limits are the policy constants (redis_store.policy_lua).
-- KEYS[1] code hash      {phone}:code     fields d (HMAC hex), n (wrong tries), x (expiry ms), m (reservation id),
--          and while a resend's outcome is unknown its pending code pd, pn, px, pm (see lib.lua)
-- KEYS[2] send record    {phone}:sends    the phone's send limits in one hash (see read_sends in lib.lua):
--          cooldown "<until ms>:<reservation id>", daily "<YYYYMMDD>:<count>",
--          hourly (sliding-window log) "<ms>:<reservation id> ..."
-- KEYS[3] per-IP log     {ip:<addr>}:sends      only when ARGV[5] > 0
-- KEYS[4] global log     {global}:sends         only when ARGV[7] = '1'
-- KEYS[5] quota marker   {global}:tripped       only when ARGV[7] = '1'
-- KEYS[6] prefix log     {prefix:<cc>:<digits>}:sends only when ARGV[6] = '1' (before the health keys)
-- KEYS[7..] provider health {global}:provider:<name>:down, ARGV[8] of them
--          (the last ARGV[8] KEYS whatever their number, see ok_with_health)
-- ARGV[1] now (ms)   ARGV[2] reservation id   ARGV[3] code HMAC (hex)
-- ARGV[4] ms until the day ends (the daily counter lives one hour longer)
-- ARGV[5] this client's send limit per IP_WINDOW_MS (0: no per-IP step)
-- ARGV[6] '1': the prefix step (PREFIX_LIMIT per PREFIX_WINDOW_MS)
-- ARGV[7] '1': the global step (single node; in cluster mode window.lua ran it)
-- ARGV[8] number of provider health keys (0 without failover)
-- ARGV[9] '1' when a verified captcha ticket came with the request (passes the
--          step-up between GLOBAL_LIMIT and GLOBAL_HARD_LIMIT)
-- ARGV[10] the day (YYYYMMDD, Asia/Shanghai) the daily count is kept for
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
local providers = tonumber(ARGV[8])
local code = redis.call('HMGET', KEYS[1], 'm', 'pm', 'd', 'x', 'n', 'pd', 'px', 'pn')
if code[1] == member or code[2] == member then
  -- a retried call (e.g. after a dropped connection) of a reservation already made
  return ok_with_health(providers, now, code[2] == member and 'PENDING' or 'OK')
end
local sends = read_sends(KEYS[2], now, ARGV[10])
if sends.cooldown_until > now then
  return {'COOLDOWN', sends.cooldown_until - now}
end
local ms_to_day_end = tonumber(ARGV[4])
if sends.daily >= DAILY_LIMIT then
  return {'DAILY', ms_to_day_end}
end
if #sends.hourly >= HOURLY_LIMIT then
  return {'HOURLY', sends.hourly[1][1] + HOUR_MS - now}
end
local wait
local ip_limit = tonumber(ARGV[5])
wait = window_full(KEYS[3], now, IP_WINDOW_MS, ip_limit)
if wait then
  return {'IP', wait}
end
local prefix_step = ARGV[6] == '1' and PREFIX_LIMIT > 0
wait = prefix_step and window_full(KEYS[6], now, PREFIX_WINDOW_MS, PREFIX_LIMIT)
if wait then
  return {'PREFIX', wait}
end
local global_step = ARGV[7] == '1' and GLOBAL_LIMIT > 0
if global_step then
  local count = window_count(KEYS[4], now, GLOBAL_WINDOW_MS)
  local verdict = stepped_verdict(count, GLOBAL_LIMIT, GLOBAL_HARD_LIMIT, ARGV[9] == '1', STEP_UP)
  if verdict then
    local reason = verdict == 'STEPUP' and 'STEPUP' or 'GLOBAL'
    return {reason, window_wait(KEYS[4], now, GLOBAL_WINDOW_MS), first_trip(KEYS[5], now, GLOBAL_WINDOW_MS)}
  end
end

-- Every limit passed: count this send everywhere and store the code.
sends.hourly[#sends.hourly + 1] = {now, member}
write_sends(KEYS[2], COOLDOWN_MS > 0 and (now + COOLDOWN_MS) .. ':' .. member or '', ARGV[10] .. ':' .. (sends.daily + 1),
            sends.hourly, math.max(ms_to_day_end + HOUR_MS, COOLDOWN_MS))
if ip_limit > 0 then
  window_add(KEYS[3], now, IP_WINDOW_MS, member)
end
if global_step then
  window_add(KEYS[4], now, GLOBAL_WINDOW_MS, member)
end
if prefix_step then
  window_add(KEYS[6], now, PREFIX_WINDOW_MS, member)
end
local function valid(d, x, n)
  return d and d ~= '' and tonumber(x) > now and (MAX_WRONG_TRIES <= 0 or tonumber(n) < MAX_WRONG_TRIES)
end
local keep = valid(code[3], code[4], code[5])
if not keep and valid(code[6], code[7], code[8]) then
  redis.call('HSET', KEYS[1], 'd', code[6], 'n', code[8], 'x', code[7], 'm', code[2])
  keep = true
end
if keep then
  redis.call('HSET', KEYS[1], 'pd', ARGV[3], 'pn', 0, 'px', now + CODE_TTL_MS, 'pm', member)
  redis.call('PEXPIRE', KEYS[1], CODE_TTL_MS)
  return ok_with_health(providers, now, 'PENDING')
end
if code[1] or code[2] or code[3] or code[6] then
  redis.call('DEL', KEYS[1])  -- an old code and its attempt records go
end
redis.call('HSET', KEYS[1], 'd', ARGV[3], 'n', 0, 'x', now + CODE_TTL_MS, 'm', member)
redis.call('PEXPIRE', KEYS[1], CODE_TTL_MS)
return ok_with_health(providers, now)
