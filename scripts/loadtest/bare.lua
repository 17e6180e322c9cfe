-- The bare route: GET /livez (no credential, no database), the yardstick for the others.
local lt = require("common")
lt.install()
wrk.method = "GET"
wrk.path = "/livez"
