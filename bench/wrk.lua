-- The wrk script of every HTTP case of bench/run.sh, set by environment:
--   MPBENCH_MODE      plain (GET the URL as given), get, verify or start
--   MPBENCH_KEY       the API key (mailproof cases)
--   MPBENCH_ROWS      file of "id code" lines (get, verify)
--   MPBENCH_FIRST, MPBENCH_COUNT   the block of those rows this run uses
--   MPBENCH_WRONG     1: send a code that is always wrong
--   MPBENCH_THREADS   wrk's -t, so that the threads share out the rows
--   MPBENCH_NONCE     makes this run's start addresses unique
--   MPBENCH_EXPECT    the status every answer must have (others are counted)
--   MPBENCH_DELAY_MS  a pause before each request of a connection (paced runs)
local mode = os.getenv("MPBENCH_MODE") or "plain"
local expect = tonumber(os.getenv("MPBENCH_EXPECT") or "200")
local pace = tonumber(os.getenv("MPBENCH_DELAY_MS") or "0")
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local rows, next_row, counter, nonce = {}, 1, 0, ""
unexpected = 0

function init(args)
  local key = os.getenv("MPBENCH_KEY")
  if key then
    wrk.headers["Authorization"] = "Bearer " .. key
  end
  nonce = os.getenv("MPBENCH_NONCE") or ""
  local wrong = os.getenv("MPBENCH_WRONG") == "1"
  if mode == "get" or mode == "verify" then
    local first = tonumber(os.getenv("MPBENCH_FIRST") or "1")
    local last = first + tonumber(os.getenv("MPBENCH_COUNT")) - 1
    local nthreads = tonumber(os.getenv("MPBENCH_THREADS") or "1")
    local i = 0
    for line in io.lines(os.getenv("MPBENCH_ROWS")) do
      i = i + 1
      if i > last then break end
      if i >= first and i % nthreads == tid then
        table.insert(rows, line)
      end
    end
  end
  if mode ~= "plain" then
    wrk.headers["Content-Type"] = "application/json"
  end
  -- whole requests made now, so that the load generator spends as little
  -- of the two cores as it can while the clock runs
  for n, line in ipairs(rows) do
    local id, code = line:match("^(%S+) (%S+)$")
    if mode == "get" then
      rows[n] = wrk.format("GET", "/v1/verifications/email/" .. id)
    else
      if wrong then code = "000000" end
      rows[n] = wrk.format("POST", "/v1/verifications/email/" .. id .. "/verify", nil,
        '{"code":"' .. code .. '"}')
    end
  end
end

if pace > 0 then
  function delay()
    return pace
  end
end

local plain

function request()
  if mode == "plain" then
    plain = plain or wrk.format(nil)
    return plain
  end
  if mode == "start" then
    counter = counter + 1
    return wrk.format("POST", "/v1/verifications/email", nil,
      string.format('{"email":"b%s-%d-%d@example.com"}', nonce, tid, counter))
  end
  local req = rows[next_row]
  next_row = next_row % #rows + 1
  return req
end

-- A 2xx is checked by wrk itself ("Non-2xx or 3xx responses"), which costs
-- the load generator nothing; only another status needs a look at each
-- answer in Lua.
if expect >= 300 then
  function response(status, headers, body)
    if status ~= expect then
      unexpected = unexpected + 1
    end
  end

  function done(summary, latency, requests)
    local n = 0
    for _, t in ipairs(threads) do
      n = n + t:get("unexpected")
    end
    io.write(string.format("unexpected %d\n", n))
  end
end
