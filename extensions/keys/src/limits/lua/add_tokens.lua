-- Counts tokens an answer used beyond its estimate (after the request),
-- even past the limit: later requests wait for the bucket to drain.
--
-- KEYS[1] tokens bucket (as in admit.lua)
-- ARGV[1] window (ms), ARGV[2] tpm, ARGV[3] tokens,
-- ARGV[4] now (ms), '' for Redis TIME
local window = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local now = clock(ARGV[4])
local level, at = drained(KEYS[1], tpm, window, now)
level = level + tonumber(ARGV[3])
keep(KEYS[1], level, at, tpm, window, now)
return math.floor(level)
