-- Check a login code and consume it on success, in one step.
-- KEYS[1] code hash              {phone}:code (see send.lua)
-- KEYS[2] daily verify counter   {phone}:verify:<YYYYMMDD, Asia/Shanghai>
-- ARGV[1] now (ms)  ARGV[2] max wrong tries per code  ARGV[3] daily verify limit
-- ARGV[4] daily key TTL (ms)  ARGV[5] ms until the day ends
-- ARGV[6..] candidate HMACs (hex) of the submitted code: current key, then previous key
-- KEYS[3] client failed-login log {ip:<client>}:verifies   (single node; absent in cluster mode,
-- KEYS[4] global failed-login log {global}:verifies          where the throttle limits are 0)
-- ARGV[#-6..#] (optional) the login throttles, after the digests: see login_throttle
--          in lib.lua (client limit, client window ms, global limit, global window ms,
--          VERIFY_CAPTCHA_AFTER, '1' with a verified captcha ticket, attempt id)
-- Returns {'OK'}, {'EXPIRED'}, {'INVALIDATED'}, {'WRONG', tries left}, {'LOCKED', wait ms},
-- {'IP', wait ms} / {'BUSY', wait ms} (a throttle refused: nothing of the phone was read or
-- written) or {'CAPTCHA'} (a ticket is needed; nothing written). Every other refusal counts
-- one failed login in KEYS[3] and KEYS[4].
-- The code's TTL is never extended here (the Node demo reset it on each wrong try).

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

local now = tonumber(ARGV[1])
local throttle = login_throttle()
local throttled = login_gate(throttle, now)
if throttled then
  return throttled
end
local verified = tonumber(redis.call('GET', KEYS[2]) or '0')
if verified >= tonumber(ARGV[3]) then
  return login_failed(throttle, now, {'LOCKED', tonumber(ARGV[5])})
end
if throttle.captcha_after > 0 and verified >= throttle.captcha_after and not throttle.ticket then
  return {'CAPTCHA'}
end
local stored = redis.call('HMGET', KEYS[1], 'd', 'n', 'x')
if not stored[1] or tonumber(stored[3]) <= now then
  return login_failed(throttle, now, {'EXPIRED'})
end
local wrong = tonumber(stored[2])
local max_wrong = tonumber(ARGV[2])
if wrong >= max_wrong then
  return login_failed(throttle, now, {'INVALIDATED'})
end
local match = false
for i = 6, throttle.last_digest do
  if same_digest(stored[1], ARGV[i]) then
    match = true
  end
end
if match then
  redis.call('DEL', KEYS[1])
  return {'OK'}
end
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return login_failed(throttle, now, {'WRONG', max_wrong - wrong - 1})
