-- Settle a resend's pending code once the provider answered (see send.lua):
-- 'accept' (the SMS was accepted) makes it the current code, so the code it
-- was kept beside stops working; 'drop' (the provider's own limit for the
-- number refused it, the reservation stays) removes it, so the current code
-- stays valid with its remaining TTL and wrong tries.
-- Exactly once: it acts only while the pending code is this reservation's,
-- so a repeat (or a call after a login consumed the hash) changes nothing.
-- A bound code's accepted send also records who sent it (p: the provider, s: its
-- serial number), for a getSms repeated inside the resend interval (send.lua
-- answers REPLAY with p) and for the code's delivery state; that is written
-- whichever of its codes (current or pending) is this reservation's.
-- KEYS[1] code hash {phone}:code[:<scene>] or {phone}:vcode:<scene>:<verificationId>
-- ARGV[1] now (ms)  ARGV[2] reservation id  ARGV[3] 'accept' | 'drop'
-- ARGV[4] provider ('' for a legacy code: nothing recorded)  ARGV[5] serial number
-- Returns 1 when it changed the hash, else 0.
local now = tonumber(ARGV[1])
local code = redis.call('HMGET', KEYS[1], 'pm', 'x', 'm')
local provider = ARGV[4] or ''
if provider ~= '' and ARGV[3] == 'accept' and (code[1] == ARGV[2] or code[3] == ARGV[2]) then
  redis.call('HSET', KEYS[1], 'p', provider, 's', ARGV[5] or '')
end
if code[1] ~= ARGV[2] then
  return 0
end
if ARGV[3] == 'accept' then
  promote_pending(KEYS[1], now)
else
  drop_pending(KEYS[1], code[2], now)
end
return 1
