-- wrk script: Flic-guide webhook bodies, On/Off mixed over 1,000 buttons.
-- The path comes from the command line after `--`; done() prints one JSON line.
local path = "/"
local buttons = 1000

function init(args)
  path = args[1] or "/"
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local n = math.random(buttons)
  local state = "On"
  if math.random(2) == 1 then state = "Off" end
  local body = '"flic_nameId": "button-' .. n .. '", "flic_state": "' .. state ..
    '", "info": "bench press",'
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
