-- wrk script: POST /api/v1/enterprises with a fresh, valid credit code per request.
-- Codes are 915107 + a 3-digit run salt + thread number + a 7-digit counter + check character.
local alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
local weights = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
local counter = 0
thread_no = 0
local salt = os.getenv("BENCH_SALT") or "000"
local auth = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
local threads = 0

function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end

local function code(n)
  local first17 = string.format("915107%s%d%07d", salt, thread_no % 10, n)
  local sum = 0
  for i = 1, 17 do
    local c = first17:sub(i, i)
    sum = sum + (alphabet:find(c, 1, true) - 1) * weights[i]
  end
  local v = (31 - sum % 31) % 31
  return first17 .. alphabet:sub(v + 1, v + 1)
end

request = function()
  counter = counter + 1
  local body = string.format('{"credit_code":"%s","name":"压测企业%d","area_code":"510703","industry_code":"C3011","scale":"small","principal_name":"张三"}', code(counter), counter)
  return wrk.format("POST", "/api/v1/enterprises", {["Content-Type"] = "application/json", ["Authorization"] = auth}, body)
end
