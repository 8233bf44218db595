-- Record one delivery report next to the code (smsverify.store.delivery).
-- KEYS[1] the delivery hash of one SMS (keys.delivery_key): state, description, at
-- ARGV[1] state: 'delivered' | 'failed'   ARGV[2] description (the carrier's code, e.g. DELIVRD)
-- ARGV[3] at (unix s)   ARGV[4] TTL (ms), set only when the hash has none (a new hash)
-- A state only moves up: sent < failed < delivered. A report of the same rank as the
-- stored state (a duplicate) or of a lower one changes nothing, TTL included.
-- Returns 1 when the hash was written, 0 when the report changed nothing.
local rank = {sent = 0, failed = 1, delivered = 2}
local new = rank[ARGV[1]]
if not new then
  return redis.error_reply('ERR receipt.lua: unknown state')
end
local current = redis.call('HGET', KEYS[1], 'state')
if current and (rank[current] or -1) >= new then
  return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'description', ARGV[2], 'at', ARGV[3])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
