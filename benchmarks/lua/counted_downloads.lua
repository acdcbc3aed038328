-- Downloads a file a fixed number of times per thread, counting what came back.
-- Usage: wrk ... -s counted_downloads.lua URL -- BUDGET DOWNLOAD_PATH MISS_PATH
--
-- wrk stops at its deadline with requests still in flight: the server may have served
-- (and recorded) those although wrk never saw the answers. So each thread asks for
-- BUDGET downloads and after that only for MISS_PATH, which is not a file: once the
-- budget is spent, nothing in flight is a download and the 200s counted here are
-- exactly the downloads the server served.

local threads = {}

setup = function(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

init = function(args)
  budget = tonumber(args[1])
  download_request = wrk.format("GET", args[2])
  miss_request = wrk.format("GET", args[3])
  issued, ok, missed, other = 0, 0, 0, 0
  -- wrk 4 calls request() once on the first thread, right after init(), only to check
  -- that the request parses; that one is never sent and must not be counted.
  unsent_check = (id == 1)
end

request = function()
  if unsent_check then
    unsent_check = false
    return download_request
  end
  if issued < budget then
    issued = issued + 1
    return download_request
  end
  return miss_request
end

response = function(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 404 then
    missed = missed + 1
  else
    other = other + 1
  end
end

done = function(summary, latency, requests)
  local totals = { issued = 0, ok = 0, missed = 0, other = 0, budget = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  io.write(string.format(
    'WRK_COUNTS {"budget": %d, "issued": %d, "ok": %d, "missed": %d, "other": %d, '
      .. '"socket_errors": %d}\n',
    totals.budget, totals.issued, totals.ok, totals.missed, totals.other,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  ))
end
