-- GET /cancel/{token} over fresh tokens (each thread its own share, round-robin); writes
-- "token nonce csrf" of each page to OUT-<thread> for the exchange benchmark.
-- Arguments: TOKENS_FILE OUT THREADS
package.path = package.path .. ";" .. os.getenv("WRK_SCRIPTS") .. "/?.lua"
require("common")

local tokens, position, out = {}, 0, nil

function init(args)
  local all = read_lines(args[1])
  local threads = tonumber(args[3])
  for index, token in ipairs(all) do
    if (index - 1) % threads == id - 1 then table.insert(tokens, token) end
  end
  out = io.open(args[2] .. "-" .. id, "w")
end

function request()
  position = position % #tokens + 1
  return wrk.format("GET", "/cancel/" .. tokens[position])
end

function response(status, headers, body)
  count(status, 200)
  if status == 200 then
    local token = body:match('action="/cancel/(cl_[a-z2-7]+)"')
    local csrf = body:match('name="csrf" value="([a-z2-7]+)"')
    local cookie = headers["Set-Cookie"] or headers["set-cookie"] or ""
    local nonce = cookie:match("cf_csrf=([a-z2-7]+)")
    if token and csrf and nonce then out:write(token, " ", nonce, " ", csrf, "\n") end
  end
  wrk.thread:set("ok_count", ok_count)
  wrk.thread:set("other_count", other_count)
end
