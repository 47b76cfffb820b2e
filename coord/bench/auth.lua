-- wrk script of `coord bench` (coord/bench/wrk.py runs it).
--
-- Credentials come from the environment rather than the command line, so they never show in `ps`:
--   COORD_BENCH_COOKIE   the session cookie header of a logged-in account (pages)
--   COORD_BENCH_TOKEN    a bearer token (the /api/ routes)
-- At the end it prints one line, "COORD_BENCH_JSON {...}", with the latency percentiles in ms.

local cookie = os.getenv("COORD_BENCH_COOKIE")
local token = os.getenv("COORD_BENCH_TOKEN")
if cookie and cookie ~= "" then
   wrk.headers["Cookie"] = cookie
end
if token and token ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'COORD_BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, '
         .. '"p99_ms": %.2f, "max_ms": %.2f, "status_errors": %d, "socket_errors": %d}\n',
      summary.requests,
      seconds,
      seconds > 0 and summary.requests / seconds or 0,
      latency:percentile(50) / 1000,
      latency:percentile(90) / 1000,
      latency:percentile(99) / 1000,
      latency.max / 1000,
      e.status,
      e.connect + e.read + e.write + e.timeout
   ))
end
