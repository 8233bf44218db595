-- Check a login code and consume it on success, in one step.
-- KEYS[1] code hash              {phone}:code (see send.lua)
-- KEYS[2] daily verify counter   {phone}:verify:<YYYYMMDD, Asia/Shanghai>
-- ARGV[1] now (ms)  ARGV[2] max wrong tries per code  ARGV[3] daily verify limit
-- ARGV[4] daily key TTL (ms)  ARGV[5] ms until the day ends
-- ARGV[6..] candidate HMACs (hex) of the submitted code: current key, then previous key
-- Returns {'OK'}, {'EXPIRED'}, {'INVALIDATED'}, {'WRONG', tries left} or {'LOCKED', wait ms}.
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
local verified = tonumber(redis.call('GET', KEYS[2]) or '0')
if verified >= tonumber(ARGV[3]) then
  return {'LOCKED', tonumber(ARGV[5])}
end
local stored = redis.call('HMGET', KEYS[1], 'd', 'n', 'x')
if not stored[1] or tonumber(stored[3]) <= now then
  return {'EXPIRED'}
end
local wrong = tonumber(stored[2])
local max_wrong = tonumber(ARGV[2])
if wrong >= max_wrong then
  return {'INVALIDATED'}
end
local match = false
for i = 6, #ARGV do
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
return {'WRONG', max_wrong - wrong - 1}
