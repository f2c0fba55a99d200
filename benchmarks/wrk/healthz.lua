-- GET /healthz: the server's own ceiling.
package.path = package.path .. ";" .. os.getenv("WRK_SCRIPTS") .. "/?.lua"
require("common")

function request()
  return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
  count(status, 200)
  wrk.thread:set("ok_count", ok_count)
  wrk.thread:set("other_count", other_count)
end
