-- wrk script: a paced (closed-loop) load instead of wrk's as-fast-as-possible.
-- Each connection waits `gap` ms after every response before its next request, so the total
-- rate is about connections / (gap + latency). bench-http calibrates `gap` for a target rate.
-- Unlike wrk2 this does not correct coordinated omission: a slow response also delays that
-- connection's next request, so a stall is under-counted in the percentiles.
--
-- usage: wrk -s pace.lua ... -- GAP_MS
local gap = 0

function init(args)
  gap = tonumber(args[1]) or 0
end

-- wrk's timers take whole milliseconds: dither between floor and ceil for the right mean.
function delay()
  local base = math.floor(gap)
  if math.random() < gap - base then
    return base + 1
  end
  return base
end
