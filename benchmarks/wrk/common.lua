-- Shared by the wrk scripts: per-thread ids, status counts, and a JSON summary on stdout.
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  thread:set("thread_count", 0)
  table.insert(threads, thread)
end

ok_count, other_count = 0, 0
local statuses = {}

function count(status, expected)
  if status == expected then ok_count = ok_count + 1 else other_count = other_count + 1 end
  statuses[status] = (statuses[status] or 0) + 1
  local parts = {}
  for code, n in pairs(statuses) do table.insert(parts, code .. "=" .. n) end
  wrk.thread:set("statuses", table.concat(parts, ","))
end

function read_lines(path)
  local lines = {}
  local file = io.open(path, "r")
  if file then
    for line in file:lines() do if #line > 0 then table.insert(lines, line) end end
    file:close()
  end
  return lines
end

function done(summary, latency, requests)
  local ok, other, statuses = 0, 0, {}
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok_count") or 0)
    other = other + (thread:get("other_count") or 0)
    table.insert(statuses, thread:get("statuses") or "")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "ok": %d, "other": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f, "statuses": "%s"}\n',
    summary.requests, summary.duration, ok, other,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, table.concat(statuses, ";")))
end
