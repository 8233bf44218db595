-- Check a login code and consume it on success, exactly once per attempt id.
-- The limits are the policy constants (redis_store.policy_lua).
-- KEYS[1] code hash              {phone}:code (fields in send.lua; this script adds a:<attempt id>)
--         Two codes may be valid in it: the current one and a resend's pending one
--         (pd, pn, px; see send.lua). Either matches; a match consumes both (one login per
--         hash), and a wrong code counts one wrong try on each valid code (n, pn).
-- KEYS[2] daily wrong-code count {phone}:verify:<YYYYMMDD, Asia/Shanghai>
-- KEYS[3] client failed-login log {ip:<client>}:verifies   (only with ARGV[4] = 'all':
-- KEYS[4] global failed-login log {global}:verifies          single node)
-- ARGV[1] now (ms)  ARGV[2] attempt id (one per login call, the same on a client's retry of that call)
-- ARGV[3] ms until the day ends (the daily count lives one hour longer)
-- ARGV[4] login throttles: 'all', 'captcha' or 'none' (see login_throttle in lib.lua)
-- ARGV[5] '1' when a verified captcha ticket came with the request
-- ARGV[6] number n of candidate HMACs; ARGV[7..6+n] candidate HMACs (hex) of the
--         submitted code: current key, then previous key.
-- Returns {'OK'}, {'EXPIRED'}, {'INVALIDATED'}, {'WRONG', tries left}, {'LOCKED', wait ms},
-- {'IP', wait ms} / {'BUSY', wait ms} (a throttle refused: nothing of the phone was counted
-- or written) or {'CAPTCHA'} (a ticket is needed; nothing written). Every other refusal
-- counts one failed login in KEYS[3] and KEYS[4], with the attempt id as member.
-- Exactly once: an outcome that changed state (OK, WRONG) is recorded in the
-- code hash as field a:<attempt id> = 'OK' | 'WRONG:<tries left>' (one field
-- per attempt, so concurrent attempts do not overwrite each other's; at most
-- MAX_WRONG_TRIES + 1 of them), and a repeat of the same attempt returns it
-- before any throttle or counter is touched; a consumed code keeps only its
-- records (d = '') for ATTEMPT_TTL_MS. The other outcomes change nothing of
-- the phone, so a repeat computes them again, and its failed-login entry is
-- the same sorted-set member (counted once). The code's TTL is never extended
-- by a wrong try (the Node demo reset it on each one).
local now = tonumber(ARGV[1])
local record = 'a:' .. ARGV[2]
local stored = redis.call('HMGET', KEYS[1], 'd', 'n', 'x', record, 'pd', 'pn', 'px')
if stored[4] then
  return recorded_outcome(stored[4])
end
local throttle = login_throttle()
local throttled = login_gate(throttle, now)
if throttled then
  return throttled
end
local wrong_today = tonumber(redis.call('GET', KEYS[2]) or '0')
if wrong_today >= DAILY_VERIFY_LIMIT then
  return login_failed(throttle, now, {'LOCKED', tonumber(ARGV[3])})
end
if throttle.captcha_after > 0 and wrong_today >= throttle.captcha_after and not throttle.ticket then
  return {'CAPTCHA'}
end
local current = stored[1] and stored[1] ~= '' and tonumber(stored[3]) > now
local pending = stored[5] and tonumber(stored[7]) > now
if not current and not pending then
  return login_failed(throttle, now, {'EXPIRED'})
end
local max_wrong = MAX_WRONG_TRIES
local open = {}  -- {digest, wrong-tries field, wrong tries} of each code still open
if current and tonumber(stored[2]) < max_wrong then
  open[#open + 1] = {stored[1], 'n', tonumber(stored[2])}
end
if pending and tonumber(stored[6]) < max_wrong then
  open[#open + 1] = {stored[5], 'pn', tonumber(stored[6])}
end
if #open == 0 then
  return login_failed(throttle, now, {'INVALIDATED'})
end
local match = false
for _, c in ipairs(open) do
  for i = 7, 6 + tonumber(ARGV[6]) do
    if same_digest(c[1], ARGV[i]) then
      match = true
    end
  end
end
if match then
  -- consumed: only the attempt records stay, for a retry of this attempt
  redis.call('HSET', KEYS[1], 'd', '', record, 'OK')
  if stored[5] then
    redis.call('HDEL', KEYS[1], 'pd', 'pn', 'px', 'pm')
  end
  redis.call('PEXPIRE', KEYS[1], ATTEMPT_TTL_MS)
  return {'OK'}
end
local left = 0
local fields = {}
for _, c in ipairs(open) do
  fields[#fields + 1] = c[2]
  fields[#fields + 1] = c[3] + 1
  left = math.max(left, max_wrong - c[3] - 1)
end
fields[#fields + 1] = record
fields[#fields + 1] = 'WRONG:' .. left
redis.call('HSET', KEYS[1], unpack(fields))
count_today(KEYS[2], tonumber(ARGV[3]) + HOUR_MS)
return login_failed(throttle, now, {'WRONG', left})
