-- Shared helpers, prepended to every script when it is loaded
-- (Redis scripts cannot import each other). Times are milliseconds.

-- Sliding-window log on a sorted set: members are reservation (or attempt)
-- ids, scores their times. An entry counts while its score is above
-- now - window. Reading counts in one ZCOUNT; entries that left the window
-- are trimmed when the next one is added (window_add), which is the only
-- time the set grows, so it never holds more than one window's entries plus
-- those that left it since the last add.
local function window_count(key, now, window)
  return redis.call('ZCOUNT', key, '(' .. (now - window), '+inf')
end

-- Milliseconds until the oldest entry in the window leaves it: read only when
-- a limit refuses, so a call that passes pays no range query.
local function window_wait(key, now, window)
  local oldest = redis.call('ZRANGEBYSCORE', key, '(' .. (now - window), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if oldest[2] == nil then
    return window  -- an empty window that refuses: a limit of 0
  end
  return tonumber(oldest[2]) + window - now
end

-- The send record of a phone: its three send limits in one hash, so that a
-- getSms reads them in one HMGET and writes them in one HSET (with their
-- TTL), where three keys took six to nine commands.
--   cooldown  "<until ms>:<reservation id>" ('' or absent: none)
--   daily     the day's count, "<YYYYMMDD>:<count>" (another day's count is 0)
--   hourly    the hourly sliding-window log, "<ms>:<reservation id>" entries
--             separated by spaces, oldest first; entries older than HOUR_MS
--             are dropped when it is read, and it only grows below the
--             hourly hard cap (HOURLY_SEND_LIMIT, times PHONE_HARD_LIMIT_FACTOR
--             with captcha configured).
--   voice     the day's voice codes (channel=voice), "<YYYYMMDD>:<count>", also counted in daily
--   backoff   "<until ms>" after a number-level refusal by the provider
--             (release.lua): every getSms of the phone, legacy or bound, waits.
-- The cooldown is the legacy codes' resend interval; a bound code keeps its
-- own (field c of its code hash, send.lua).
-- read_sends returns {cooldown_until = ms (0: none), cooldown = the raw field,
-- backoff_until = ms (0: none), voice = the voice count on `day` (voice_raw: the field),
-- daily = the count on `day`, day = the day of the
-- daily field, daily_raw = its count whatever the day, hourly = {{ms, id}, ...}
-- within the hour}.
local function read_sends(key, now, day)
  local f = redis.call('HMGET', key, 'cooldown', 'daily', 'hourly', 'backoff', 'voice')
  local r = {cooldown_until = 0, cooldown = f[1], daily = 0, daily_raw = 0, hourly = {},
             backoff_until = tonumber(f[4] or '0') or 0, voice_raw = f[5], voice = 0}
  if f[5] and f[5] ~= '' then
    local sep = string.find(f[5], ':', 1, true)
    if string.sub(f[5], 1, sep - 1) == day then
      r.voice = tonumber(string.sub(f[5], sep + 1))
    end
  end
  if f[1] and f[1] ~= '' then
    r.cooldown_until = tonumber(string.sub(f[1], 1, string.find(f[1], ':', 1, true) - 1))
  end
  if f[2] and f[2] ~= '' then
    local sep = string.find(f[2], ':', 1, true)
    r.day = string.sub(f[2], 1, sep - 1)
    r.daily_raw = tonumber(string.sub(f[2], sep + 1))
    if r.day == day then
      r.daily = r.daily_raw
    end
  end
  if f[3] then
    for at, id in string.gmatch(f[3], '(%d+):(%S+)') do
      at = tonumber(at)
      if at > now - HOUR_MS then
        r.hourly[#r.hourly + 1] = {at, id}
      end
    end
  end
  return r
end

local function hourly_text(entries)
  local parts = {}
  for i, e in ipairs(entries) do
    parts[i] = string.format('%d', e[1]) .. ':' .. e[2]
  end
  return table.concat(parts, ' ')
end

-- Write the fields ('' for none; backoff nil: left as it is) and, unless ttl
-- is nil, the record's TTL (ms, the longest that any of them needs).
local function write_sends(key, cooldown, daily, hourly, ttl, backoff)
  redis.call('HSET', key, 'cooldown', cooldown, 'daily', daily, 'hourly', hourly_text(hourly))
  if backoff then
    redis.call('HSET', key, 'backoff', backoff)
  end
  if ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end

-- INCR a day counter; its TTL (ms) is set when the count starts, since the key
-- is the day's and never needs a longer one (nothing else writes the key:
-- release.lua gives back the send record's daily field, not this). Day counts live until an hour after
-- their day ends (callers pass ms to the day's end + HOUR_MS), so a request
-- just before midnight still finds its day's count.
local function count_today(key, ttl)
  if redis.call('INCR', key) == 1 then
    redis.call('PEXPIRE', key, ttl)
  end
end

local function window_add(key, now, window, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end

-- The global send quota: the first refusal of a window returns 1 so that
-- the caller logs one ERROR line per window across all function instances.
-- The marker holds the end of its window on the service clock (like every
-- other time here), and its TTL only cleans it up.
local function first_trip(marker, now, window)
  local until_ms = tonumber(redis.call('GET', marker) or '0')
  if until_ms > now then
    return 0
  end
  redis.call('SET', marker, tostring(now + window), 'PX', window)
  return 1
end

-- Provider health for SMS failover: the last n KEYS hold "<until ms>" (on the
-- service clock) while a provider is skipped after a failure. Returns the
-- reply {word or 'OK', flag, ...} with one 0|1 flag per provider key, 1 = skip.
local function ok_with_health(n, now, word)
  local reply = {word or 'OK'}
  for i = #KEYS - n + 1, #KEYS do
    local until_ms = tonumber(redis.call('GET', KEYS[i]) or '0')
    reply[#reply + 1] = (until_ms > now) and 1 or 0
  end
  return reply
end

-- The pending code of a code hash: a resend's code kept beside a still-valid
-- current code (d, n, x, m) until the resend's outcome is known. Fields:
-- pd (HMAC hex), pn (wrong tries), px (expiry ms), pm (reservation id).
-- promote_pending makes it the current code (its SMS was accepted, or the
-- current code's reservation was released); drop_pending removes it (its
-- SMS was refused), leaving the current code with its remaining TTL, or no
-- hash when the current code has none left (x: its expiry, ms).
local function promote_pending(key, now)
  local p = redis.call('HMGET', key, 'pd', 'pn', 'px', 'pm')
  redis.call('HSET', key, 'd', p[1], 'n', p[2], 'x', p[3], 'm', p[4])
  redis.call('HDEL', key, 'pd', 'pn', 'px', 'pm')
  redis.call('PEXPIRE', key, math.max(1, tonumber(p[3]) - now))
end

local function drop_pending(key, x, now)
  local left = tonumber(x or '0') - now
  if left > 0 then
    redis.call('HDEL', key, 'pd', 'pn', 'px', 'pm')
    redis.call('PEXPIRE', key, left)
  else
    redis.call('DEL', key)
  end
end

-- Compare two digests in constant time: Lua compares strings by their
-- interned address, and what is interned and compared here is the SHA-1 of
-- each digest, so the time taken tells nothing about where the digests
-- themselves differ (the "double HMAC" comparison: Paragon Initiative
-- Enterprises, "Preventing Timing Attacks on String Comparison with a Double
-- HMAC Strategy", https://paragonie.com/blog/2015/11/preventing-timing-attacks-on-string-comparison-with-double-hmac-strategy).
-- redis.sha1hex is C; a byte-by-byte loop in Lua cost 7.5 us per comparison, this 1.6 us.
-- fakeredis (the in-process store of local runs and of the fast unit tests)
-- has no redis.sha1hex: there, a loop without an early exit, summing squared
-- differences (Lua 5.1 has no bit operators).
local function same_digest(a, b)
  if redis.sha1hex then
    return redis.sha1hex(a) == redis.sha1hex(b)
  end
  if string.len(a) ~= string.len(b) then
    return false
  end
  local diff = 0
  for i = 1, string.len(a) do
    local d = string.byte(a, i) - string.byte(b, i)
    diff = diff + d * d
  end
  return diff == 0
end

-- The reply of check.lua recorded for an attempt ('OK' or 'WRONG:<tries left>'),
-- returned again when the same attempt is repeated (exactly-once under retries).
local function recorded_outcome(record)
  if record == 'OK' then
    return {'OK'}
  end
  return {'WRONG', tonumber(string.sub(record, 7))}
end

-- Abuse limits: captcha step-up. ------------------------------------------

-- The hard cap of a limit: with captcha configured a verified ticket passes
-- a reached limit until `factor` times it (CLIENT_HARD_LIMIT_FACTOR or
-- PHONE_HARD_LIMIT_FACTOR); without, the limit itself.
local function hard_cap(limit, factor)
  if CAPTCHA then
    return limit * factor
  end
  return limit
end

-- A window with a soft and a hard limit (window.lua, cluster mode): below soft
-- everyone passes; from soft to hard only a request with a verified captcha
-- ticket passes, the others get 'STEPUP' when step-up is on, else 'FULL'; at
-- hard nobody passes. Returns nil (pass), 'STEPUP' or 'FULL'. hard < soft
-- counts as hard = soft.
local function stepped_verdict(count, soft, hard, ticket, stepup)
  if hard < soft then
    hard = soft
  end
  if count < soft or (ticket and count < hard) then
    return nil
  end
  if stepup and count < hard then
    return 'STEPUP'
  end
  return 'FULL'
end

-- The verdict on a list of limits {reason = word, count = n, soft = n, hard = n}
-- (hard >= soft; a limit off is not in the list): a limit at its hard cap
-- refuses first, whatever the request carries, so a throttled client never
-- costs a captcha check; then, without a verified ticket, a limit at its soft
-- value (or `ask`: the captcha is required anyway) asks for one.
-- Returns nil (pass), {'HARD', limit} or {'STEPUP', limit or nil}.
local function judge(limits, ticket, ask)
  for _, l in ipairs(limits) do
    if l.count >= l.hard then
      return {'HARD', l}
    end
  end
  if ticket then
    return nil
  end
  for _, l in ipairs(limits) do
    if l.count >= l.soft then
      return {'STEPUP', l}
    end
  end
  if ask then
    return {'STEPUP', nil}
  end
  return nil
end

-- Conversion counters and pumping (smsverify.store.metrics). ---------------

-- A bucket "YYYYMMDD|HH|block|provider|scene" split into its day and the
-- counter field of `event` ("HH|block|provider|scene|event").
local function bucket_field(bucket, event)
  return string.sub(bucket, 1, 8), string.sub(bucket, 10) .. '|' .. event
end

-- HINCRBY a counter of a day's hash; a new field renews the hash's TTL
-- (METRICS_RETENTION_DAYS), so the hash lives while it is written and then goes.
local function count_metric(key, field, by)
  local value = redis.call('HINCRBY', key, field, by)
  if value == by then
    redis.call('PEXPIRE', key, METRICS_RETENTION_DAYS * 86400000)
  end
  return value
end

-- The hour's spend (millionths of a CNY, field "HH|spend") grows by `price`;
-- returns true for the send that takes it past SPEND_ALERT_MICRO, once an hour.
-- A negative price gives a released send's spend back.
local function count_spend(key, hour, price)
  if SPEND_ALERT_MICRO <= 0 or price == 0 then
    return false
  end
  local spent = count_metric(key, hour .. '|spend', price)
  return price > 0 and spent >= SPEND_ALERT_MICRO and spent - price < SPEND_ALERT_MICRO
end

-- Count a consumed code as verified in its send's bucket (field b of the code
-- hash, '' or nil: none) when the bucket's day key is `today` or `yesterday`
-- (codes live at most a day), and in its block's conversion window `window`.
local function count_verified(bucket, today, yesterday, window)
  if not bucket or bucket == '' then
    return
  end
  local day, field = bucket_field(bucket, 'verified')
  local key = (string.sub(today, -8) == day and today) or (string.sub(yesterday, -8) == day and yesterday) or nil
  if key then
    -- no TTL to renew: the send counted in this very day hash (count_metric) set it
    redis.call('HINCRBY', key, field, 1)
  end
  if PUMPING_WINDOW_SENDS > 0 and redis.call('HINCRBY', window, 'v', 1) == 1 then
    -- the batch's first verification: the window may have been reset (pump_judge DELs it) and be new
    redis.call('PEXPIRE', window, METRICS_RETENTION_DAYS * 86400000)
  end
end

-- A number block's conversion window (hash: s, v sends and verifications of
-- the current batch, ps, pv of the previous batch, st state '' | 'stepup' |
-- 'blocked', u until (ms), k sends since the state changed). Conversion is
-- (v + pv) / (s + ps), judged once s + ps >= PUMPING_WINDOW_SENDS (the last
-- PUMPING_WINDOW_SENDS to twice that many sends): below
-- PUMPING_MIN_CONVERSION_PERMILLE / 1000 a normal block steps up; a stepped-up
-- block below half of it, after PUMPING_BLOCK_AFTER more sends (with tickets),
-- is blocked; either state ends when the conversion recovers or at u
-- (PUMPING_BLOCK_MS after it began), and then the window starts again.
-- Returns {state = '' | 'stepup' | 'blocked', wait = ms, note = {'PUMP', old,
-- new, sends, verified} or nil}; the state change is written at once.
local function pump_judge(key, now)
  local f = redis.call('HMGET', key, 's', 'v', 'ps', 'pv', 'st', 'u', 'k')
  local s, v = tonumber(f[1] or '0'), tonumber(f[2] or '0')
  local ps, pv = tonumber(f[3] or '0'), tonumber(f[4] or '0')
  local st, u, k = f[5] or '', tonumber(f[6] or '0'), tonumber(f[7] or '0')
  local n, good = s + ps, v + pv
  local enough = n >= PUMPING_WINDOW_SENDS
  local low = enough and good * 1000 < PUMPING_MIN_CONVERSION_PERMILLE * n
  local very_low = enough and good * 2000 < PUMPING_MIN_CONVERSION_PERMILLE * n
  local new = st
  if st ~= '' and (u <= now or not low) then
    new = ''
  elseif st == '' and low then
    new = 'stepup'
  elseif st == 'stepup' and very_low and k >= PUMPING_BLOCK_AFTER then
    new = 'blocked'
  end
  if new == st then
    return {state = st, wait = u - now}
  end
  local note = {'PUMP', st == '' and 'normal' or st, new == '' and 'normal' or new, n, good}
  if new == '' and u <= now then  -- the time is up: the block starts again from nothing
    redis.call('DEL', key)
    return {state = '', wait = 0, note = note}
  end
  u = new == '' and 0 or (new == 'blocked' and now + PUMPING_BLOCK_MS or (st == '' and now + PUMPING_BLOCK_MS or u))
  redis.call('HSET', key, 'st', new, 'u', u, 'k', 0)
  redis.call('PEXPIRE', key, METRICS_RETENTION_DAYS * 86400000)
  return {state = new, wait = u - now, note = note}
end

-- Count a send (by = 1) or give one back (by = -1) in a block's conversion
-- window; `stepped`: the block is stepped up (its sends since then count in k).
local function pump_send(key, by, stepped)
  local s = redis.call('HINCRBY', key, 's', by)
  if by > 0 and stepped then
    redis.call('HINCRBY', key, 'k', 1)
  end
  if s == 1 and by > 0 then
    redis.call('PEXPIRE', key, METRICS_RETENTION_DAYS * 86400000)
  end
  if s >= PUMPING_WINDOW_SENDS and PUMPING_WINDOW_SENDS > 0 then  -- the batch is full: it becomes the previous one
    local v = redis.call('HGET', key, 'v') or '0'
    redis.call('HSET', key, 'ps', s, 'pv', v, 's', 0, 'v', 0)
    redis.call('PEXPIRE', key, METRICS_RETENTION_DAYS * 86400000)
  end
end

-- Append a note ({'PUMP', ...} or 'SPEND') to a reply.
local function with_notes(reply, pump, spend)
  if pump and pump.note then
    for _, item in ipairs(pump.note) do
      reply[#reply + 1] = item
    end
  end
  if spend then
    reply[#reply + 1] = 'SPEND'
  end
  return reply
end
