-- GET /healthz (the server's own ceiling) or another path: the framework's ceiling.
package.path = package.path .. ";" .. os.getenv("WRK_SCRIPTS") .. "/?.lua"
require("common")

-- The path is the first script argument (the harness passes /hello for the bare Hummingbird app).
local path = "/healthz"

function init(args)
  if args[1] then path = args[1] end
end

function request()
  return wrk.format("GET", path)
end

function response(status, headers, body)
  count(status, 200)
  wrk.thread:set("ok_count", ok_count)
  wrk.thread:set("other_count", other_count)
end
