-- GET /api/me with an API key, rotating over every tenant: the authenticated, tenant-resolved,
-- rate-limited, logged request path and nothing else.
local lt = require("common")
lt.install()
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", "/api/me", lt.headers(lt.tenant(n)))
end
