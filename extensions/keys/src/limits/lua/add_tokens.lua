-- Counts tokens an answer used beyond its estimate (after the request).
--
-- KEYS[1] tokens log, KEYS[2] tokens sum (as in admit.lua)
-- ARGV[1] window (ms), ARGV[2] a unique member, ARGV[3] tokens,
-- ARGV[4] now (ms), '' for Redis TIME
local window = tonumber(ARGV[1])
local now = clock(ARGV[4])
local sum = evict_tokens(KEYS[1], KEYS[2], now, window)
local tokens = tonumber(ARGV[3])
if tokens > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[2] .. ':' .. ARGV[3])
  sum = sum + tokens
end
keep_tokens(KEYS[1], KEYS[2], sum, window)
return sum
