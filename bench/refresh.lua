-- wrk script for the refresh scenario: POST auth/refresh, each refresh token used exactly once.
-- A refresh rotates the session: the answer carries the next refresh token and the one sent is
-- dead (presenting it again would revoke its whole family). So every token that comes back goes
-- into this thread's pool and the next request takes one from it; with one request in flight
-- per connection the pool never runs dry, and every chain of tokens stays linear.
-- The starting tokens, one fresh sign-in per connection, are read from the file named by
-- BENCH_REFRESH_TOKENS (one a line) and shared out between wrk's threads (BENCH_WRK_THREADS).
-- BENCH_REFRESH_KEY is the body's key in the app's naming (refresh_token or refreshToken).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_REFRESH_KEY") or "refresh_token"

local all, given = nil, 0
function setup(thread) -- runs in the main Lua state, once per thread
    if not all then
        all = {}
        for line in io.lines(os.getenv("BENCH_REFRESH_TOKENS")) do
            if line ~= "" then all[#all + 1] = line end
        end
    end
    local per = math.floor(#all / (tonumber(os.getenv("BENCH_WRK_THREADS")) or 2))
    thread:set("tokens", table.concat(all, " ", given + 1, given + per))
    -- wrk calls the first thread's request() once before any connection opens, only to check
    -- the request it builds (script_verify_request): that call must not use up a token.
    thread:set("probe", given == 0 and 1 or 0)
    given = given + per
end

function init(args) -- in each thread's own Lua state
    pool = {}
    for t in string.gmatch(tokens or "", "%S+") do pool[#pool + 1] = t end
end

function request()
    local t
    if probe == 1 then
        probe, t = 0, "probe"
    else
        -- An empty pool means a refresh failed (its answer carried no token): the request
        -- then fails too and shows as non-2xx.
        t = table.remove(pool, 1) or "none"
    end
    return wrk.format(nil, nil, nil, '{"' .. key .. '":"' .. t .. '"}')
end

function response(status, headers, body)
    local t = body:match('"' .. key .. '"%s*:%s*"([^"]+)"')
    if t then pool[#pool + 1] = t end
end
