-- Check a login code and consume it on success, exactly once per attempt id.
-- The limits are the policy constants (redis_store.policy_lua).
-- KEYS[1] code hash              legacy {phone}:code[:<scene>] or bound {phone}:vcode:<scene>:<verificationId>
--         (fields in send.lua; this script adds a:<attempt id>). Two codes may be valid in it:
--         the current one and a resend's pending one (pd, pn, px; see send.lua). Either
--         matches; a match consumes both (one login per hash), and a wrong code counts one
--         wrong try on each valid code (n, pn).
-- KEYS[2] daily wrong-code count {phone}:verify:<YYYYMMDD, Asia/Shanghai>     legacy only
-- KEYS[3] client failed-login log {ip:<client>}:verifies    legacy, ARGV[4] = 'legacy' only
-- KEYS[4] global failed-login log {global}:verifies           (single node)
-- KEYS[5..7] single node, optional: the counter hashes {metrics}:<YYYYMMDD> of today and of
--         yesterday and the phone's block's conversion window {metrics}:conversion:<block>
--         (smsverify.store.metrics): a consumed code counts as verified in its send's bucket
--         (field b, send.lua). Without them (cluster) an OK answers {'OK', bucket} and the
--         caller counts it on the {metrics} slot. A bound code passes KEYS[2..4] as placeholders.
-- ARGV[1] now (ms)  ARGV[2] attempt id (one per login call; the store's own retries of that
--         call reuse it)  ARGV[3] ms until the day ends (the daily count lives one hour longer)
-- ARGV[4] 'bound' (a bound code: its own wrong tries are all that count), 'legacy' (single
--         node: the failed-login logs are KEYS[3], KEYS[4]) or 'legacy-read' (cluster: their
--         counts and waits come in ARGV[9..12], and the caller adds the entries after WRONG)
-- ARGV[5] '1' when a verified captcha ticket came with the request
-- ARGV[6] captcha: '0' not configured, '1' configured, '2' a ticket is required (no client IP)
-- ARGV[7] '1': peek (a right code is reported, not consumed: a WeChat exchange comes first)
-- ARGV[8] the client's failed-login limit (0: off)
-- ARGV[9..12] cluster: client count, client wait ms, global count, global wait ms
-- ARGV[13] number n of candidate HMACs; ARGV[14..13+n] candidate HMACs (hex) of the
--         submitted code: current key, then previous key.
-- Returns {'OK'}, {'EXPIRED'}, {'INVALIDATED'}, {'WRONG', tries left}, {'LOCKED', wait ms},
-- {'IP', wait ms} (the client's failed logins reached their hard cap), {'BUSY', wait ms, 1}
-- (the global failed-login quota, captcha not configured) or {'CAPTCHA', 1 when the global
-- quota asked}. Only a wrong code (a guess) writes anything: it counts on the code, and for a
-- legacy code on the phone's day, the client's and the global logs. A login with no live
-- code to check, a refusal and a peek change nothing.
-- Exactly once: an outcome that changed state (OK, WRONG) is recorded in the
-- code hash as field a:<attempt id> = 'OK' | 'WRONG:<tries left>' (one field
-- per attempt, so concurrent attempts do not overwrite each other's; at most
-- MAX_VERIFY_ATTEMPTS + 1 of them), and a repeat of the same attempt returns it
-- before any throttle or counter is touched; a consumed code keeps only its
-- records (d = '') for ATTEMPT_TTL_MS. The code's TTL is never extended
-- by a wrong try (the Node demo reset it on each one).
local now = tonumber(ARGV[1])
local record = 'a:' .. ARGV[2]
local stored = redis.call('HMGET', KEYS[1], 'd', 'n', 'x', record, 'pd', 'pn', 'px', 'b')
if stored[4] then
  return recorded_outcome(stored[4])
end
local mode = ARGV[4]
local legacy = mode ~= 'bound'
local ticket = ARGV[5] == '1'
local limits = {}
if legacy then
  local client_limit = tonumber(ARGV[8])
  local single = mode == 'legacy'
  if client_limit > 0 then
    limits[#limits + 1] = {reason = 'IP', soft = client_limit, hard = hard_cap(client_limit, CLIENT_HARD_LIMIT_FACTOR),
                           count = single and window_count(KEYS[3], now, IP_VERIFY_WINDOW_MS) or tonumber(ARGV[9]),
                           wait = function() return single and window_wait(KEYS[3], now, IP_VERIFY_WINDOW_MS) or tonumber(ARGV[10]) end}
  end
  if GLOBAL_VERIFY_LIMIT > 0 then  -- with captcha it steps up, never refuses everyone
    limits[#limits + 1] = {reason = 'BUSY', soft = GLOBAL_VERIFY_LIMIT, hard = CAPTCHA and math.huge or GLOBAL_VERIFY_LIMIT,
                           count = single and window_count(KEYS[4], now, GLOBAL_VERIFY_WINDOW_MS) or tonumber(ARGV[11]),
                           wait = function() return single and window_wait(KEYS[4], now, GLOBAL_VERIFY_WINDOW_MS) or tonumber(ARGV[12]) end}
  end
  local hard = judge(limits, true, false)
  if hard then
    local l = hard[2]
    return l.reason == 'BUSY' and {'BUSY', l.wait(), 1} or {'IP', l.wait()}
  end
  local wrong_today = tonumber(redis.call('GET', KEYS[2]) or '0')
  if wrong_today >= DAILY_VERIFY_LIMIT then
    return {'LOCKED', tonumber(ARGV[3])}
  end
  if CAPTCHA and VERIFY_CAPTCHA_AFTER > 0 then
    limits[#limits + 1] = {reason = 'PHONE', count = wrong_today, soft = VERIFY_CAPTCHA_AFTER, hard = math.huge}
  end
end
local current = stored[1] and stored[1] ~= '' and tonumber(stored[3]) > now
local pending = stored[5] and tonumber(stored[7]) > now
if not current and not pending then
  return {'EXPIRED'}
end
local open = {}  -- {digest, wrong-tries field, wrong tries} of each code still open
if current and tonumber(stored[2]) < MAX_VERIFY_ATTEMPTS then
  open[#open + 1] = {stored[1], 'n', tonumber(stored[2])}
end
if pending and tonumber(stored[6]) < MAX_VERIFY_ATTEMPTS then
  open[#open + 1] = {stored[5], 'pn', tonumber(stored[6])}
end
if #open == 0 then
  return {'INVALIDATED'}
end
local step = judge(limits, ticket, CAPTCHA and ARGV[6] == '2')
if step then
  return {'CAPTCHA', (step[2] and step[2].reason == 'BUSY') and 1 or 0}
end
local match = false
for _, c in ipairs(open) do
  for i = 14, 13 + tonumber(ARGV[13]) do
    if same_digest(c[1], ARGV[i]) then
      match = true
    end
  end
end
if match then
  if ARGV[7] == '1' then
    return {'OK'}
  end
  -- consumed: only the attempt records stay, for a retry of this attempt
  redis.call('HSET', KEYS[1], 'd', '', record, 'OK')
  if stored[5] then
    redis.call('HDEL', KEYS[1], 'pd', 'pn', 'px', 'pm')
  end
  redis.call('PEXPIRE', KEYS[1], ATTEMPT_TTL_MS)
  if KEYS[7] then
    count_verified(stored[8], KEYS[5], KEYS[6], KEYS[7])
    return {'OK'}
  end
  return {'OK', stored[8] or ''}
end
local left = 0
local fields = {}
for _, c in ipairs(open) do
  fields[#fields + 1] = c[2]
  fields[#fields + 1] = c[3] + 1
  left = math.max(left, MAX_VERIFY_ATTEMPTS - c[3] - 1)
end
fields[#fields + 1] = record
fields[#fields + 1] = 'WRONG:' .. left
redis.call('HSET', KEYS[1], unpack(fields))
if legacy then
  count_today(KEYS[2], tonumber(ARGV[3]) + HOUR_MS)
  if mode == 'legacy' then
    if tonumber(ARGV[8]) > 0 then
      window_add(KEYS[3], now, IP_VERIFY_WINDOW_MS, ARGV[2])
    end
    if GLOBAL_VERIFY_LIMIT > 0 then
      window_add(KEYS[4], now, GLOBAL_VERIFY_WINDOW_MS, ARGV[2])
    end
  end
end
return {'WRONG', left}
