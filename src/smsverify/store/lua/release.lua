-- Undo a getSms reservation after the provider refused the message (or its
-- outcome could not be learned), so the refusal costs the phone no cooldown,
-- no daily or hourly quota, and leaves no code. Only entries made by this
-- reservation are removed.
-- KEYS[1] code hash  KEYS[2] cooldown  KEYS[3] hourly log  KEYS[4] daily counter
-- KEYS[5..] per-IP and global logs (single-node mode; in cluster mode the
--           caller removes those with ZREM on their own slots)
-- ARGV[1] reservation id  ARGV[2] release record TTL (ms)
-- ARGV[3] entries of this reservation the caller already removed on other
--         slots (cluster mode; 0 otherwise), counted in the reply and record
-- Returns the number of entries released.
-- Exactly once: the cooldown key is left holding the release record
-- "0:<count>:<reservation id>" (an until of 0 delays no one) for ARGV[2] ms.
-- A repeat returns the recorded count, and send.lua refuses a reservation
-- released before it ran (a request that arrives late after a timeout).
local member = ARGV[1]
local cooldown = redis.call('GET', KEYS[2])
local recorded = release_record(cooldown, member)
if recorded then
  return recorded
end
local released = tonumber(ARGV[3] or '0')
if redis.call('HGET', KEYS[1], 'm') == member then
  released = released + redis.call('DEL', KEYS[1])
end
local ours = cooldown and string.sub(cooldown, -string.len(member) - 1) == ':' .. member
if ours then
  released = released + 1
end
if redis.call('ZREM', KEYS[3], member) == 1 then
  released = released + 1
  if tonumber(redis.call('GET', KEYS[4]) or '0') > 0 then
    redis.call('DECR', KEYS[4])
  end
end
for i = 5, #KEYS do
  released = released + redis.call('ZREM', KEYS[i], member)
end
if ours or not cooldown then
  redis.call('SET', KEYS[2], '0:' .. released .. ':' .. member, 'PX', ARGV[2])
end
return released
