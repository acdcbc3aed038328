-- Each request asks for a path made from a random line of a file: a random project's page.
-- Usage: wrk ... -s random_paths.lua URL -- NAMES_FILE TEMPLATE
-- TEMPLATE holds one %s for the line, e.g. "/project/%s/"; lines are used as they are
-- (URL-encode them first). Reports through report.lua, like every measured run.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

init = function(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      table.insert(paths, string.format(args[2], line))
    end
  end
  if #paths == 0 then
    error("no lines in " .. args[1])
  end
  -- Each thread its own sequence, so threads do not ask for the same pages in step.
  math.randomseed(os.time() + (id or 0) * 7919 + #paths)
end

local setup_count = 0
setup = function(thread)
  setup_count = setup_count + 1
  thread:set("id", setup_count)
end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
