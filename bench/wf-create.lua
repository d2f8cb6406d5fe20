-- wrk script for the wf-create scenario: every request POSTs a new critical drift (CloudDrift's
-- scanner reporting a resource), so each one runs the whole create workflow of bench/app.yaml's
-- `drifts`: the dedupe check (on PostgreSQL behind an advisory lock, in a guard function), the insert, the on_create
-- alert and the audit entry. The resource_id is new every time (BENCH_WF_PREFIX, unique per
-- run, then the wrk thread and a per-thread counter), so the dedupe check never finds one and
-- every answer is a 201. The service token is sent by run.sh (-H 'Authorization: ...').
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local prefix = os.getenv("BENCH_WF_PREFIX") or tostring(os.time())

local next_thread = 0
function setup(thread) -- runs in the main Lua state, once per thread
    next_thread = next_thread + 1
    thread:set("tid", next_thread)
end

function init(args) -- in each thread's own Lua state
    n = 0
end

-- The same record each time but for its resource (the title names it, as the scanner's do).
local head = '{"title":"Public S3 bucket ACL '
local mid = '","description":"Bucket ACL grants public read; the declared state is private.",'
    .. '"resource_type":"aws_s3_bucket","provider":"aws","region":"eu-west-1","severity":"critical",'
    .. '"expected_state":{"acl":"private","versioning":true},'
    .. '"actual_state":{"acl":"public-read","versioning":true},"resource_id":"arn:aws:s3:::'

function request()
    n = n + 1
    local rid = prefix .. "-" .. tid .. "-" .. n
    return wrk.format(nil, nil, nil, head .. rid .. mid .. rid .. '"}')
end
