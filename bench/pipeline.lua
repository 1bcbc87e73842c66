-- wrk script: send DEPTH requests back to back per write (HTTP/1.1
-- pipelining). usage: wrk ... -s bench/pipeline.lua URL -- DEPTH
-- wrk counts every response as a request, but records one latency sample
-- per batch (from the write to the last response of the batch).
local batch

init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, wrk.path)
  end
  batch = table.concat(r)
end

request = function()
  return batch
end
