-- Small CSV lead imports (cfg.import_rows new numbers each), rotating over every tenant, paced.
local lt = require("common")
lt.install()
local n = 0
local csv = { ["Content-Type"] = "text/csv" }
function request()
  n = n + 1
  local rows = { "name,phone,email,tags" }
  for i = 1, lt.cfg.import_rows do
    rows[#rows + 1] = "Import " .. n .. "-" .. i .. "," .. lt.phone() .. ",import" .. n .. "-" .. i .. "@example.com,imported"
  end
  return wrk.format("POST", "/api/leads/import", lt.headers(lt.tenant(n), csv), table.concat(rows, "\r\n") .. "\r\n")
end
