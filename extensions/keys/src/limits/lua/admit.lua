-- One request's limits for one API key, atomically, in one round trip:
-- max_parallel (a set of leased slots), then requests per minute, then
-- tokens per minute (sliding window logs), stopping at the first refusal.
--
-- KEYS[1] slots: sorted set, member -> lease expiry (ms)
-- KEYS[2] requests log: sorted set, member -> time admitted (ms)
-- KEYS[3] tokens log: sorted set, `<member>:<tokens>` -> time (ms)
-- KEYS[4] tokens sum: string, the sum of the tokens log
-- ARGV[1] window (ms)      ARGV[2] a unique member
-- ARGV[3] max_parallel (0: none)   ARGV[4] slot lease (ms)
-- ARGV[5] rpm (0: none)    ARGV[6] tpm (0: none)   ARGV[7] this request's tokens
-- ARGV[8] now (ms), '' for Redis TIME
--
-- Returns {status, requests remaining, requests reset (ms), tokens
-- remaining, tokens reset (ms)}; status 0 admitted, 1 refused by
-- max_parallel, 2 by rpm, 3 by tpm.
local window = tonumber(ARGV[1])
local member = ARGV[2]
local max_parallel = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local rpm = tonumber(ARGV[5])
local tpm = tonumber(ARGV[6])
local weight = tonumber(ARGV[7])
local now = clock(ARGV[8])

-- When enough of the oldest entries leave the window for `need` more.
local function refused_reset(log, weighted, sum, limit, need)
  need = math.min(need, limit)
  local freed = 0
  local start = 0
  while true do
    local batch = redis.call('ZRANGE', log, start, start + 127, 'WITHSCORES')
    if #batch == 0 then
      return window
    end
    for i = 1, #batch, 2 do
      if weighted then
        freed = freed + tokens_of(batch[i])
      else
        freed = freed + 1
      end
      if sum - freed + need <= limit then
        return math.max(0, tonumber(batch[i + 1]) + window - now)
      end
    end
    start = start + 128
  end
end

-- When the window is whole again: its oldest entry leaves.
local function admitted_reset(log)
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  if #first == 0 then
    return 0
  end
  return math.max(0, tonumber(first[2]) + window - now)
end

if max_parallel > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= max_parallel then
    return {1, 0, 0, 0, 0}
  end
end

local r_left, r_reset, t_left, t_reset = 0, 0, 0, 0
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[2])
  if count + 1 > rpm then
    return {2, math.max(0, rpm - count), refused_reset(KEYS[2], false, count, rpm, 1), 0, 0}
  end
  redis.call('ZADD', KEYS[2], now, member)
  redis.call('PEXPIRE', KEYS[2], window)
  r_left = rpm - count - 1
  r_reset = admitted_reset(KEYS[2])
end

if tpm > 0 then
  local sum = evict_tokens(KEYS[3], KEYS[4], now, window)
  if sum + weight > tpm then
    keep_tokens(KEYS[3], KEYS[4], sum, window)
    -- The request stays counted in the requests log, as in memory.
    return {3, r_left, r_reset, math.max(0, tpm - sum),
            refused_reset(KEYS[3], true, sum, tpm, weight)}
  end
  if weight > 0 then
    redis.call('ZADD', KEYS[3], now, member .. ':' .. ARGV[7])
    sum = sum + weight
  end
  keep_tokens(KEYS[3], KEYS[4], sum, window)
  t_left = tpm - sum
  t_reset = admitted_reset(KEYS[3])
end

if max_parallel > 0 then
  redis.call('ZADD', KEYS[1], now + lease, member)
  -- The set outlives its latest lease, no longer.
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
end

return {0, r_left, r_reset, t_left, t_reset}
