-- One request's limits for one API key, atomically, in one round trip:
-- max_parallel (a set of leased slots), then requests per minute, then
-- tokens per minute (token buckets), stopping at the first refusal.
--
-- KEYS[1] slots: sorted set, member -> lease expiry (ms)
-- KEYS[2] requests bucket, KEYS[3] tokens bucket (see prelude.lua)
-- ARGV[1] window (ms)      ARGV[2] a unique member
-- ARGV[3] max_parallel (0: none)   ARGV[4] slot lease (ms)
-- ARGV[5] rpm (0: none)    ARGV[6] tpm (0: none)   ARGV[7] this request's tokens
-- ARGV[8] now (ms), '' for Redis TIME
--
-- Returns {status, requests remaining, requests reset (ms), tokens
-- remaining, tokens reset (ms)}; status 0 admitted, 1 refused by
-- max_parallel, 2 by rpm, 3 by tpm. An admitted request's reset is when
-- its bucket is empty again; a refused one's, when it would fit.
local window = tonumber(ARGV[1])
local member = ARGV[2]
local max_parallel = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local rpm = tonumber(ARGV[5])
local tpm = tonumber(ARGV[6])
local weight = tonumber(ARGV[7])
local now = clock(ARGV[8])

-- `ms` rounded up to a whole ms, but not for the float noise of the
-- drain's arithmetic (2.1 - 2 is 0.10000000000000009).
local function ms_up(ms)
  return math.max(0, math.ceil(ms - 1e-6))
end

-- Pours `need` into the bucket `key` of `limit` if it fits: admitted,
-- remaining, reset (ms). A refusal writes nothing.
local function pour(key, limit, need)
  need = math.min(need, limit)
  local level, at = drained(key, limit, window, now)
  local per_ms = limit / window
  -- The small slack absorbs the rounding of the drain's arithmetic.
  if level + need <= limit + 1e-6 then
    level = level + need
    keep(key, level, at, limit, window, now)
    return true, math.floor(math.max(0, limit - level)), ms_up(level / per_ms)
  end
  return false, math.floor(math.max(0, limit - level)),
    ms_up((level + need - limit) / per_ms)
end

if max_parallel > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= max_parallel then
    return {1, 0, 0, 0, 0}
  end
end

local r_left, r_reset, t_left, t_reset = 0, 0, 0, 0
if rpm > 0 then
  local ok
  ok, r_left, r_reset = pour(KEYS[2], rpm, 1)
  if not ok then
    return {2, r_left, r_reset, 0, 0}
  end
end

if tpm > 0 then
  local ok
  ok, t_left, t_reset = pour(KEYS[3], tpm, weight)
  if not ok then
    -- The request stays counted in the requests bucket, as in memory.
    return {3, r_left, r_reset, t_left, t_reset}
  end
end

if max_parallel > 0 then
  redis.call('ZADD', KEYS[1], now + lease, member)
  -- The set outlives its latest lease, no longer.
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
end

return {0, r_left, r_reset, t_left, t_reset}
