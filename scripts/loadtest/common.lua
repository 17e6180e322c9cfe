-- Shared by every load-test class script (scripts/loadtest/*.lua), run by wrk (LuaJIT).
-- scripts/loadtest.py starts one wrk per endpoint class and passes, in the environment:
--   LOADTEST_CONFIG   a Lua file it wrote: tenants (id, API key, lead ids), the status pool,
--                     signed webhook requests, the analytics window
--   LOADTEST_CLASS    the class name reported back
--   LOADTEST_RATE     requests/s for the whole wrk process, paced with delay(); 0 = as fast as it goes
--   LOADTEST_THREADS  wrk's -t (each thread paces rate/threads and takes its own share of ids)
--   LOADTEST_PREFIX   three digits (first 1-4) unique to this wrk process: new phone numbers
--                     are +447 PREFIX NNNNNN, so no two requests create the same lead
-- done() prints one line `LOADTEST {json}`: requests, socket errors, status counts, latency
-- percentiles (ms) and requests/s, plus a few bodies of failed answers.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } loadtest_timespec;
  int clock_gettime(int clock, loadtest_timespec *out);
]]

local M = {}
M.cfg = dofile(os.getenv("LOADTEST_CONFIG"))
M.class = os.getenv("LOADTEST_CLASS") or "unnamed"
M.rate = tonumber(os.getenv("LOADTEST_RATE") or "0") or 0
M.threads = tonumber(os.getenv("LOADTEST_THREADS") or "1") or 1
M.prefix = os.getenv("LOADTEST_PREFIX") or "100"

local clock = ffi.new("loadtest_timespec")
local CLOCK_MONOTONIC = 1
function M.now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

-- The tenant for the n-th request: every class rotates over all tenants.
function M.tenant(n)
  local tenants = M.cfg.tenants
  return tenants[(n % #tenants) + 1]
end

function M.headers(tenant, extra)
  local headers = { ["Authorization"] = "Bearer " .. tenant.key }
  for name, value in pairs(extra or {}) do headers[name] = value end
  return headers
end

-- A phone number no other request of this run uses (see LOADTEST_PREFIX).
local phones = 0
function M.phone()
  local n = phones * M.threads + (thread_index or 0)
  phones = phones + 1
  return "+447" .. M.prefix .. string.format("%06d", n % 1000000)
end

-- This thread's share of a list (items i with i % threads == thread index).
function M.share(list)
  local mine = {}
  for i, item in ipairs(list) do
    if (i - 1) % M.threads == (thread_index or 0) then mine[#mine + 1] = item end
  end
  return mine
end

local function json(value)
  local kind = type(value)
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then return "null" end
    return string.format("%.17g", value)
  elseif kind == "string" then
    return '"' .. value:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif kind == "boolean" then
    return tostring(value)
  elseif kind == "table" then
    if #value > 0 or next(value) == nil then
      local parts = {}
      for _, item in ipairs(value) do parts[#parts + 1] = json(item) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local parts = {}
    for key, item in pairs(value) do parts[#parts + 1] = json(tostring(key)) .. ":" .. json(item) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end
M.json = json

-- Installs wrk's hooks: setup (thread index), response (status counts), delay (pacing, only
-- when LOADTEST_RATE is set) and done (the report).
function M.install()
  local threads = {}
  function setup(thread)
    thread:set("thread_index", #threads)
    threads[#threads + 1] = thread
  end

  -- Flat tables only: wrk's thread:get() crashes copying a table that holds tables.
  statuses = {}
  failures = {}
  function response(status, headers, body)
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if (status < 200 or status >= 400) and #failures < 5 then
      failures[#failures + 1] = key .. " " .. string.sub(body or "", 1, 300)
    end
  end

  if M.rate > 0 then
    -- One schedule per thread: the next request goes out at the next free slot, so the thread
    -- sends rate/threads requests a second whatever the latency. A thread that fell behind (a
    -- slow server, every connection busy) catches up at most 100 ms of its schedule at once.
    local interval = M.threads / M.rate
    local slot = nil
    function delay()
      local now = M.now()
      if slot == nil then slot = now end
      if slot < now - 0.1 then slot = now - 0.1 end
      local wait = math.max(0, slot - now)
      slot = slot + interval
      return math.floor(wait * 1000)
    end
  end

  function done(summary, latency, requests)
    local counts, samples = {}, {}
    for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses") or {}) do counts[status] = (counts[status] or 0) + count end
      for _, failure in ipairs(thread:get("failures") or {}) do
        if #samples < 5 then samples[#samples + 1] = failure end
      end
    end
    local seconds = summary.duration / 1e6
    local ms = function(us) return us / 1000 end
    local report = {
      class = M.class,
      requests = summary.requests,
      seconds = seconds,
      rps = summary.requests / seconds,
      bytes = summary.bytes,
      socket_errors = {
        connect = summary.errors.connect, read = summary.errors.read, write = summary.errors.write,
        timeout = summary.errors.timeout,
      },
      statuses = counts,
      failures = samples,
      rate_target = M.rate,
      latency_ms = {
        p50 = ms(latency:percentile(50)), p90 = ms(latency:percentile(90)), p95 = ms(latency:percentile(95)),
        p99 = ms(latency:percentile(99)), max = ms(latency.max), mean = ms(latency.mean),
      },
    }
    io.write("LOADTEST " .. json(report) .. "\n")
  end
end

return M
