-- wrk script for the create scenario: every request POSTs the same JSON record.
-- Used unchanged against every server (Plinth, PocketBase, the floor).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"Bench request","description":"load test record load test record load test record load test record ","vendor":"aws","priority":"High"}'
