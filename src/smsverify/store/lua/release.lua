-- Undo a getSms reservation after the provider refused the message (or after
-- the reservation got no answer), so the refusal costs the phone no cooldown,
-- no daily or hourly quota, and leaves no code. Only entries made by this
-- reservation are removed.
-- Exactly once by construction: every removal is keyed by the reservation id
-- (the daily count is given back only when this reservation's hourly entry
-- was removed), so a repeat removes nothing more and returns 0. A released
-- phone keeps its send record, with the count given back.
-- The code: a pending code of this reservation (a resend, see send.lua) is
-- dropped and the current code stays with its remaining TTL and wrong tries;
-- a current code of this reservation goes, and a later reservation's pending
-- code, if any, becomes the current one.
-- A number-level refusal (ARGV[3] > 0) then backs the phone off: the send
-- record's backoff is set to now + ARGV[3] (unless a later one is there), so
-- repeated getSms, legacy or bound, are refused (COOLDOWN) without asking the
-- provider again; a repeat sets the same value.
-- KEYS[1] code hash  KEYS[2] send record (cooldown, daily count, hourly log, backoff: see read_sends in lib.lua)
-- KEYS[3..] the window logs to give back (single-node mode: client, site, global, prefix; the
--           caller leaves the client's and the site's out when the provider refused the number,
--           which still counts against the client; in cluster mode the caller removes them with
--           ZREM on their own slots)
-- ARGV[1] reservation id  ARGV[2] now (ms)  ARGV[3] backoff (ms; 0: none)
-- ARGV[4] 'voice' for a voice code's reservation (its voice count is given back too)
-- ARGV[5] the send's bucket (send.lua ARGV[15]; absent or '': no counters here). With it the
--         last two KEYS are the counter hash of its day and the block's conversion window, and
--         the send's 'sent' count (and its spend, ARGV[6] millionths of a CNY; and with
--         ARGV[7] = '1' its place in the conversion window) is given back, once: when this
--         call removed the reservation from the hourly log.
-- Returns the number of entries released.
local member = ARGV[1]
local now = tonumber(ARGV[2])
local backoff = tonumber(ARGV[3] or '0')
local released = 0
local tally = ARGV[5] or ''
local logs = tally ~= '' and #KEYS - 2 or #KEYS  -- the last window log's index
local code = redis.call('HMGET', KEYS[1], 'm', 'pm', 'x', 'px')
if code[2] == member then
  drop_pending(KEYS[1], code[3], now)
  released = released + 1
elseif code[1] == member then
  if code[2] and tonumber(code[4]) > now then
    promote_pending(KEYS[1], now)
  else
    redis.call('DEL', KEYS[1])
  end
  released = released + 1
end
local sends = read_sends(KEYS[2], now, '')
local voice_day = ''
if sends.voice_raw and sends.voice_raw ~= '' then  -- the voice count of the field's own day
  local sep = string.find(sends.voice_raw, ':', 1, true)
  voice_day, sends.voice = string.sub(sends.voice_raw, 1, sep - 1), tonumber(string.sub(sends.voice_raw, sep + 1))
end
local cooldown = sends.cooldown or ''
local changed = false
if string.sub(cooldown, -string.len(member) - 1) == ':' .. member then
  released = released + 1
  cooldown = ''
  changed = true
end
local backoff_until = nil
if backoff > 0 and sends.backoff_until < now + backoff then
  backoff_until = now + backoff
  changed = true
end
local hourly = {}
for _, e in ipairs(sends.hourly) do
  if e[2] ~= member then
    hourly[#hourly + 1] = e
  end
end
local daily = sends.day and (sends.day .. ':' .. sends.daily_raw) or ''
if #hourly < #sends.hourly then
  released = released + 1
  changed = true
  if sends.daily_raw > 0 then
    daily = sends.day .. ':' .. (sends.daily_raw - 1)
  end
  if ARGV[4] == 'voice' and sends.voice > 0 then
    redis.call('HSET', KEYS[2], 'voice', voice_day .. ':' .. (sends.voice - 1))
  end
  if tally ~= '' then  -- the conversion counters (smsverify.store.metrics)
    local _, field = bucket_field(tally, 'sent')
    count_metric(KEYS[logs + 1], field, -1)
    count_spend(KEYS[logs + 1], string.sub(tally, 10, 11), -tonumber(ARGV[6] or '0'))
    if ARGV[7] == '1' and PUMPING_WINDOW_SENDS > 0 then
      pump_send(KEYS[logs + 2], -1, false)
    end
  end
end
if changed then
  -- the record keeps the TTL it has, unless the backoff needs longer
  local ttl = redis.call('PTTL', KEYS[2])
  write_sends(KEYS[2], cooldown, daily, hourly, ttl < backoff and backoff or nil, backoff_until)
end
for i = 3, logs do
  released = released + redis.call('ZREM', KEYS[i], member)
end
return released
