-- Undo a getSms reservation after the provider refused the message (or after
-- the reservation got no answer), so the refusal costs the phone no cooldown,
-- no daily or hourly quota, and leaves no code. Only entries made by this
-- reservation are removed.
-- Exactly once by construction: every removal is keyed by the reservation id
-- (the daily count is given back only when this reservation's hourly entry
-- was removed), so a repeat removes nothing more and returns 0. It leaves no
-- record, so that a released phone holds no key but its daily counter.
-- KEYS[1] code hash  KEYS[2] cooldown  KEYS[3] hourly log  KEYS[4] daily counter
-- KEYS[5..] per-IP and global logs (single-node mode; in cluster mode the
--           caller removes those with ZREM on their own slots)
-- ARGV[1] reservation id
-- Returns the number of entries released.
local member = ARGV[1]
local released = 0
if redis.call('HGET', KEYS[1], 'm') == member then
  released = released + redis.call('DEL', KEYS[1])
end
local cooldown = redis.call('GET', KEYS[2])
if cooldown and string.sub(cooldown, -string.len(member) - 1) == ':' .. member then
  released = released + redis.call('DEL', KEYS[2])
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
return released
