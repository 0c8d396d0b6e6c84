-- wrk script of the cases benchmark (bench/cases/run.py sets these environment variables):
--   WRK_METHOD  GET or POST (default GET)
--   WRK_BODY    a form-encoded body; "{n}" becomes a number unique in the run, "{region}" cycles
--               through WRK_REGIONS (comma-separated region codes)
--   WRK_COOKIE  a Cookie header (the console's session)
-- done() prints one line "WRKJSON {...}": requests, duration, latency percentiles (µs) including p95,
-- socket errors and the count of each HTTP status (a 302 to the login page would show here).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  method = os.getenv("WRK_METHOD") or "GET"
  body = os.getenv("WRK_BODY")
  cookie = os.getenv("WRK_COOKIE")
  regions = {}
  for code in string.gmatch(os.getenv("WRK_REGIONS") or "", "[^,]+") do
    table.insert(regions, code)
  end
  counter = 0
  statuses = {}
end

function request()
  counter = counter + 1
  local headers = {}
  if cookie then headers["Cookie"] = cookie end
  if body then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local text = body:gsub("{n}", thread_id .. "-" .. counter)
    if #regions > 0 then
      text = text:gsub("{region}", regions[(counter % #regions) + 1])
    end
    return wrk.format(method, nil, headers, text)
  end
  return wrk.format(method, nil, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "status": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write,
    e.timeout, e.status, table.concat(parts, ", ")))
end
