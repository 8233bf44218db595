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
-- reply {'OK', flag, ...} with one 0|1 flag per provider key, 1 = skip.
local function ok_with_health(n, now)
  local reply = {'OK'}
  for i = #KEYS - n + 1, #KEYS do
    local until_ms = tonumber(redis.call('GET', KEYS[i]) or '0')
    reply[#reply + 1] = (until_ms > now) and 1 or 0
  end
  return reply
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
