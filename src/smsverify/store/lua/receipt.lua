-- Record one delivery report next to the code (smsverify.store.delivery).
-- KEYS[1] the delivery hash of one SMS (keys.delivery_key): state, description, at
-- ARGV[1] state: 'delivered' | 'failed'   ARGV[2] description (the carrier's code, e.g. DELIVRD)
-- ARGV[3] at (unix s)   ARGV[4] TTL (ms), set only when the hash has none (a new hash)
-- A state only moves up: sent < failed < delivered. A report of the same rank as the
-- stored state (a duplicate) or of a lower one changes nothing, TTL included.
-- KEYS[2] optional (single node): the counter hash {metrics}:<YYYYMMDD> of the report's day;
-- ARGV[5] its field base 'HH|block|provider|scene' (smsverify.store.metrics): a change of
-- state counts one 'delivered' or 'failed' there (a late success after a failure counts in
-- both). Without KEYS[2] (cluster) the caller counts on the {metrics} slot from the answer.
-- Returns 1 when the hash was written (2: a failure became a success), 0 when the report
-- changed nothing. The counters need no more than this script's own answer.
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
if KEYS[2] then
  local value = redis.call('HINCRBY', KEYS[2], ARGV[5] .. '|' .. ARGV[1], 1)
  if value == 1 then
    redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[6]))
  end
end
return current == 'failed' and 2 or 1
