-- Reserve one slot of a single sliding window (Redis Cluster mode, where the
-- per-IP and global logs live on other slots than the phone's keys).
-- KEYS[1] window log (sorted set)   KEYS[2] quota marker (global only; same hash tag)
-- ARGV[1] now (ms)  ARGV[2] reservation id  ARGV[3] window (ms)  ARGV[4] limit
-- ARGV[5] '1' to report the first refusal of a window (needs KEYS[2])
-- ARGV[6] number of provider health keys ending KEYS (0 or absent: none)
-- ARGV[7] hard limit (absent or below ARGV[4]: = ARGV[4])  ARGV[8] '1' with a verified captcha
-- ticket  ARGV[9] '1' for step-up (see stepped_verdict in lib.lua)
-- ARGV[10] 'read': only read the window (a cluster login's failed-login quotas)
-- Returns {'OK', skip flag per provider} or {'FULL' | 'STEPUP', wait ms, first trip (0|1)};
-- with 'read', {count, ms until the oldest entry leaves}.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
local count = window_count(KEYS[1], now, window)
if ARGV[10] == 'read' then
  return {count, window_wait(KEYS[1], now, window)}
end
local providers = tonumber(ARGV[6] or '0')
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return ok_with_health(providers, now)  -- a retried call of a reservation already made
end
local verdict = stepped_verdict(count, tonumber(ARGV[4]), tonumber(ARGV[7] or '0'), ARGV[8] == '1', ARGV[9] == '1')
if verdict then
  local tripped = 0
  if ARGV[5] == '1' and verdict == 'FULL' then  -- a refusal, not a step-up, is what the ERROR line reports
    tripped = first_trip(KEYS[2], now, window)
  end
  return {verdict, window_wait(KEYS[1], now, window), tripped}
end
window_add(KEYS[1], now, window, ARGV[2])
return ok_with_health(providers, now)
