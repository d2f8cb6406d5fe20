-- wrk script for the login scenario: every request POSTs the same sign-in (BENCH_LOGIN_BODY,
-- e.g. {"email": ..., "password": ...}). Each one verifies the password (argon2id) and opens a
-- session.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
