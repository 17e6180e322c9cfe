-- Provider webhooks, signed beforehand by scripts/loadtest.py, rotating over every tenant:
-- Twilio status callbacks (X-Twilio-Signature, HMAC-SHA1) for the tenants' messages and voice
-- end-of-call reports (X-Vapi-Signature, HMAC-SHA256). Replays are answered without changes,
-- as providers retry. Paced (LOADTEST_RATE) under the per-IP webhook budget of 6000 a minute.
local lt = require("common")
lt.install()
local n = 0
function request()
  n = n + 1
  local hook = lt.cfg.webhooks[(n % #lt.cfg.webhooks) + 1]
  local headers = {}
  for name, value in pairs(hook.headers) do headers[name] = value end
  return wrk.format("POST", hook.path, headers, hook.body)
end
