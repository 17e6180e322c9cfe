-- Authenticated reads, rotating over every tenant: a page of leads (35%), one lead by id (35%),
-- a page of calls (15%) and a page of the event log (15%).
local lt = require("common")
lt.install()
local n = 0
function init(args)
  math.randomseed(1000 + (thread_index or 0))
end
function request()
  n = n + 1
  local tenant = lt.tenant(n)
  local pick = math.random(100)
  local path
  if pick <= 35 then
    path = "/api/leads?limit=20"
  elseif pick <= 70 then
    path = "/api/leads/" .. tenant.leads[math.random(#tenant.leads)]
  elseif pick <= 85 then
    path = "/api/calls?limit=20"
  else
    path = "/api/events?limit=20&after=" .. math.random(0, tenant.seq or 0)
  end
  return wrk.format("GET", path, lt.headers(tenant))
end
