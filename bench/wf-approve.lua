-- wrk script for the wf-approve scenario: POST drifts/{id}/approve on a pending drift and
-- drifts/{id}/reopen on an approved one, over the drifts seeded for this run (all pending at
-- the start; the file BENCH_DRIFT_IDS, one id a line, shared out between wrk's threads,
-- BENCH_WRK_THREADS). Each thread keeps a queue of its drifts that have no request in flight:
-- a request takes the first one and the transition its state calls for; the answer (the drift,
-- with its id and new status) puts it back at the end of the queue. So no two requests in
-- flight ever touch the same drift, and every transition starts from the right state (a 409
-- would show as non-2xx). A drift whose answer is not a 200 is not put back.
-- Base path: BENCH_DRIFTS_PATH (e.g. /bench/api/drifts). run.sh sends the engineer's token.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local base = os.getenv("BENCH_DRIFTS_PATH") or "/bench/api/drifts"

local all, given = nil, 0
function setup(thread) -- runs in the main Lua state, once per thread
    if not all then
        all = {}
        for line in io.lines(os.getenv("BENCH_DRIFT_IDS")) do
            if line ~= "" then all[#all + 1] = line end
        end
    end
    local per = math.floor(#all / (tonumber(os.getenv("BENCH_WRK_THREADS")) or 2))
    thread:set("ids", table.concat(all, " ", given + 1, given + per))
    -- wrk calls the first thread's request() once before any connection opens, only to check
    -- the request it builds (script_verify_request): that call must not take a drift.
    thread:set("probe", given == 0 and 1 or 0)
    given = given + per
end

function init(args) -- in each thread's own Lua state
    queue, head, tail = {}, 1, 0 -- ids of the drifts with no request in flight: queue[head..tail]
    for id in string.gmatch(ids or "", "%S+") do
        tail = tail + 1
        queue[tail] = id
    end
    approved = {} -- id -> true once approved (all start pending)
end

local approve_body = '{"review_comment":"Accepted: matches the change request."}'

function request()
    if probe == 1 then
        probe = 0
        return wrk.format(nil, base .. "/probe/approve", nil, approve_body)
    end
    local id = queue[head]
    if not id then
        -- Every drift lost its way back (answers without a drift): fail visibly.
        return wrk.format(nil, base .. "/none/approve", nil, approve_body)
    end
    queue[head] = nil
    head = head + 1
    if approved[id] then
        return wrk.format(nil, base .. "/" .. id .. "/reopen", nil, "{}")
    end
    return wrk.format(nil, base .. "/" .. id .. "/approve", nil, approve_body)
end

function response(status, headers, body)
    if status ~= 200 then return end
    local id = body:match('"id"%s*:%s*"([^"]+)"')
    local st = body:match('"status"%s*:%s*"([^"]+)"')
    if id and st then
        approved[id] = (st == "approved") or nil
        tail = tail + 1
        queue[tail] = id
    end
end
