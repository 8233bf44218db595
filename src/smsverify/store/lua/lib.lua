-- Shared helpers, prepended to every script when it is loaded
-- (Redis scripts cannot import each other). Times are milliseconds.

-- Sliding-window log on a sorted set: members are reservation ids, scores
-- their send times. Drops entries older than the window and returns the
-- number left and the milliseconds until the oldest leaves the window.
local function window_state(key, now, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  local wait = 0
  if count > 0 then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = tonumber(oldest[2]) + window - now
  end
  return count, wait
end

local function window_add(key, now, window, member)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end

-- The global circuit breaker: the first refusal of a window returns 1 so that
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

-- Compare two hex digests without an early exit: the time taken does not
-- depend on where they first differ. Lua 5.1 has no bit operators, so the
-- differences are summed as squares.
local function same_digest(a, b)
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

-- Abuse limits (adaptive captcha, login throttles). -------------------------

-- A window with a soft and a hard limit: below soft everyone passes; from
-- soft to hard only a request with a verified captcha ticket passes, the
-- others get 'STEPUP' when step-up is on, else 'FULL'; at hard nobody passes.
-- Returns nil (pass), 'STEPUP' or 'FULL'. hard < soft counts as hard = soft.
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

-- Milliseconds until a sliding window of `limit` entries has room, or nil
-- when it has room now (or limit is 0: the window is off).
local function window_full(key, now, window, limit)
  if limit <= 0 then
    return nil
  end
  -- window_state without its ZRANGE unless the window is full (the common case pays 2 commands)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then
    return nil
  end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end

-- Login throttles: the LOGIN_ARGS entries of ARGV right after check.lua's
-- candidate digests (ARGV[9..8+n]) are: client failed-login limit, its window
-- (ms), global failed-login limit, its window (ms), wrong codes per phone per
-- day before a captcha ticket is needed (0: never) and '1' if a verified
-- ticket came with the request; absent, the throttles are off. The sorted-set
-- member is the attempt id ARGV[6], so a retried attempt is counted once.
-- KEYS[3] is the client's failed-login log and KEYS[4] the global one (both
-- sorted sets; unused with limits 0, as in cluster mode, where they live on
-- other slots).
local LOGIN_ARGS = 6
local function login_throttle()
  local base = 8 + tonumber(ARGV[8])
  if #ARGV < base + LOGIN_ARGS then
    return {client_limit = 0, global_limit = 0, captcha_after = 0, member = ARGV[6]}
  end
  return {
    client_limit = tonumber(ARGV[base + 1]), client_window = tonumber(ARGV[base + 2]),
    global_limit = tonumber(ARGV[base + 3]), global_window = tonumber(ARGV[base + 4]),
    captcha_after = tonumber(ARGV[base + 5]), ticket = ARGV[base + 6] == '1', member = ARGV[6],
  }
end

-- Before anything of the phone is counted: {'IP'|'BUSY', wait ms} when the
-- client's or the global failed-login quota is spent, else nil.
local function login_gate(t, now)
  local wait = window_full(KEYS[3], now, t.client_window or 0, t.client_limit)
  if wait then
    return {'IP', wait}
  end
  wait = window_full(KEYS[4], now, t.global_window or 0, t.global_limit)
  if wait then
    return {'BUSY', wait}
  end
  return nil
end

-- Count a failed login in the client's and the global logs; returns reply.
local function login_failed(t, now, reply)
  if t.client_limit > 0 then
    window_add(KEYS[3], now, t.client_window, t.member)
  end
  if t.global_limit > 0 then
    window_add(KEYS[4], now, t.global_window, t.member)
  end
  return reply
end
