-- GET /api/analytics/summary over the last 30 days, rotating over every tenant.
local lt = require("common")
lt.install()
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", "/api/analytics/summary?" .. lt.cfg.analytics_query, lt.headers(lt.tenant(n)))
end
