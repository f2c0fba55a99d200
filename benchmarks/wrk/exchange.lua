-- POST /cancel/{token}: the landing page's first POST, which exchanges the link. Each prepared
-- token is used once; a thread that runs out starts over and those requests count as "other"
-- (the expired screen), which the harness reports.
-- Arguments: PREPARED_FILE THREADS
package.path = package.path .. ";" .. os.getenv("WRK_SCRIPTS") .. "/?.lua"
require("common")

local prepared, position = {}, 0

function init(args)
  local threads = tonumber(args[2])
  for index, line in ipairs(read_lines(args[1])) do
    if (index - 1) % threads == id - 1 then
      local token, nonce, csrf = line:match("(%S+) (%S+) (%S+)")
      table.insert(prepared, {token, nonce, csrf})
    end
  end
end

function request()
  position = position % #prepared + 1
  local item = prepared[position]
  return wrk.format("POST", "/cancel/" .. item[1],
    {["Cookie"] = "cf_csrf=" .. item[2], ["Content-Type"] = "application/x-www-form-urlencoded"}, "csrf=" .. item[3])
end

function response(status, headers, body)
  count(status, 303)
  wrk.thread:set("ok_count", ok_count)
  wrk.thread:set("other_count", other_count)
end
