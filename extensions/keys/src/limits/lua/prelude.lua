-- Shared by admit.lua and add_tokens.lua (prepended to each).
--
-- Time is Redis's own (TIME), never a gateway node's clock, so nodes with
-- skewed clocks agree on every bucket. `now_arg` is empty in production;
-- the tests pass an explicit time to place requests at a minute's edge.
if redis.replicate_commands then
  pcall(redis.replicate_commands) -- Redis < 5: allow TIME before writes
end

local function clock(now_arg)
  if now_arg ~= nil and now_arg ~= '' then
    return tonumber(now_arg)
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A limit of `limit` per `window` ms is a token bucket (GCRA, a leaky
-- bucket used as a meter): a hash {l = level, t = when measured (ms)}
-- that drains at `limit` per `window`. Two fields per limit, whatever the
-- limit: a check costs the same for 10 rpm and for a million.

-- The bucket's level at `now`, and the time it is measured at (a `now`
-- before its last measure drains nothing).
local function drained(key, limit, window, now)
  local v = redis.call('HMGET', key, 'l', 't')
  local level = tonumber(v[1]) or 0
  local at = tonumber(v[2]) or now
  if now > at then
    level = math.max(0, level - (now - at) * limit / window)
    at = now
  end
  return level, at
end

-- Stores the bucket; it expires once it has drained empty.
local function keep(key, level, at, limit, window, now)
  if level <= 0 then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'l', string.format('%.17g', level), 't', at)
  local empty_in = math.ceil(level * window / limit) + (at - now)
  redis.call('PEXPIRE', key, math.max(1, empty_in))
end
