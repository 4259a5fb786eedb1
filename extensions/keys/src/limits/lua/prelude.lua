-- Shared by admit.lua and add_tokens.lua (prepended to each).
--
-- Time is Redis's own (TIME), never a gateway node's clock, so nodes with
-- skewed clocks agree on every window. `now_arg` is empty in production;
-- the tests pass an explicit time to place entries at a minute's edge.
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

-- A tokens-log member is `<node>:<seq>:<tokens>`.
local function tokens_of(member)
  return tonumber(string.match(member, ':(%d+)$')) or 0
end

-- The tokens in the log `log` whose running sum is kept in `sum_key`:
-- the sum, rebuilt from the members when it is missing or damaged, after
-- dropping (and subtracting) the entries older than the window.
local function evict_tokens(log, sum_key, now, window)
  if redis.call('EXISTS', log) == 0 then
    return 0
  end
  local sum = tonumber(redis.call('GET', sum_key))
  if sum == nil or sum < 0 then
    sum = 0
    for _, m in ipairs(redis.call('ZRANGE', log, 0, -1)) do
      sum = sum + tokens_of(m)
    end
  end
  local cutoff = now - window
  local old = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
  if #old > 0 then
    for _, m in ipairs(old) do
      sum = sum - tokens_of(m)
    end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
  end
  if sum < 0 then
    sum = 0
  end
  return sum
end

-- The log and its sum expire together, a window after the last write (every
-- entry is older than `now`, so none outlives its relevance).
local function keep_tokens(log, sum_key, sum, window)
  redis.call('SET', sum_key, sum, 'PX', window)
  redis.call('PEXPIRE', log, window)
end
