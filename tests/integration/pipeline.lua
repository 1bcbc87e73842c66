-- wrk script: each request() call returns DEPTH pipelined GETs of PATH.
-- Usage: wrk -s pipeline.lua URL -- [DEPTH] [PATH]
local depth, path = 16, "/plaintext"

init = function(args)
  depth = tonumber(args[1]) or depth
  path = args[2] or path
  local reqs = {}
  for i = 1, depth do
    reqs[i] = wrk.format("GET", path)
  end
  pipelined = table.concat(reqs)
end

request = function()
  return pipelined
end
