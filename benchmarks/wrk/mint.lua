-- POST /v1/cancel-sessions with API-key auth for a real customer, an Idempotency-Key on every
-- second request; the tokens of 201 responses go to OUT-<thread> for the landing benchmark.
-- Arguments: APP_ID API_KEY EXPIRES_AT [OUT]
package.path = package.path .. ";" .. os.getenv("WRK_SCRIPTS") .. "/?.lua"
require("common")

local counter = 0
local out

function init(args)
  app, key, expires = args[1], args[2], args[3]
  body = '{"customerId":"cus_bench","expiresAt":"' .. expires .. '"}'
  if args[4] then out = io.open(args[4] .. "-" .. id .. "-" .. os.time(), "w") end
  prefix = "bench-" .. id .. "-" .. os.time() .. "-" .. math.random(1000000000) .. "-"
end

function request()
  counter = counter + 1
  local headers = {["x-ck-app"] = app, ["x-ck-api-key"] = key, ["Content-Type"] = "application/json"}
  if counter % 2 == 0 then headers["Idempotency-Key"] = prefix .. counter end
  return wrk.format("POST", "/v1/cancel-sessions", headers, body)
end

function response(status, headers, body)
  count(status, 201)
  if out and status == 201 then
    local token = body:match('"token":"(cl_[a-z2-7]+)"')
    if token then out:write(token, "\n") end
  end
  wrk.thread:set("ok_count", ok_count)
  wrk.thread:set("other_count", other_count)
end
