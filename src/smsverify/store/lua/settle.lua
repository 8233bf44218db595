-- Settle a resend's pending code once the provider answered (see send.lua):
-- 'accept' (the SMS was accepted) makes it the current code, so the code it
-- was kept beside stops working; 'drop' (the provider's own limit for the
-- number refused it, the reservation stays) removes it, so the current code
-- stays valid with its remaining TTL and wrong tries.
-- Exactly once: it acts only while the pending code is this reservation's,
-- so a repeat (or a call after a login consumed the hash) changes nothing.
-- KEYS[1] code hash {phone}:code
-- ARGV[1] now (ms)  ARGV[2] reservation id  ARGV[3] 'accept' | 'drop'
-- Returns 1 when it changed the hash, else 0.
local now = tonumber(ARGV[1])
local code = redis.call('HMGET', KEYS[1], 'pm', 'x')
if code[1] ~= ARGV[2] then
  return 0
end
if ARGV[3] == 'accept' then
  promote_pending(KEYS[1], now)
else
  drop_pending(KEYS[1], code[2], now)
end
return 1
