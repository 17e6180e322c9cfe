-- Authenticated writes, rotating over every tenant: create a lead with a new number (40%),
-- PATCH a lead's notes (30%), move a lead's status (30%). Status moves go round this run's own
-- pool of leads (all `new` when it starts): contacted, interested, contacted, ... so every move
-- is allowed, and a lead comes round again only after the whole pool.
local lt = require("common")
lt.install()
local n, moves, pool = 0, 0, nil
local json = { ["Content-Type"] = "application/json" }
function init(args)
  math.randomseed(2000 + (thread_index or 0))
  pool = lt.share(lt.cfg.status_pool)
end
function request()
  n = n + 1
  local pick = math.random(100)
  if pick <= 40 or #pool == 0 then
    local tenant = lt.tenant(n)
    local body = '{"name":"Load Test ' .. n .. '","phone":"' .. lt.phone() ..
      '","source":"loadtest","tags":["loadtest"],"customFields":{"run":"' .. lt.class .. '"}}'
    return wrk.format("POST", "/api/leads", lt.headers(tenant, json), body)
  elseif pick <= 70 then
    local tenant = lt.tenant(n)
    local id = tenant.leads[math.random(#tenant.leads)]
    return wrk.format("PATCH", "/api/leads/" .. id, lt.headers(tenant, json), '{"notes":"load test note ' .. n .. '"}')
  end
  local entry = pool[(moves % #pool) + 1]
  local target = (math.floor(moves / #pool) % 2 == 0) and "contacted" or "interested"
  moves = moves + 1
  local tenant = lt.cfg.tenants[entry.t]
  return wrk.format("POST", "/api/leads/" .. entry.id .. "/status", lt.headers(tenant, json),
    '{"status":"' .. target .. '","reason":"load test"}')
end
