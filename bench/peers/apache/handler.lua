-- The handler behind mod_session: the session arrives in HTTP_SESSION
-- (SessionEnv On) as key=value pairs, URL-encoded and joined with '&', and
-- goes back through the X-Replace-Session response header (SessionHeader),
-- which mod_session merges, re-encrypts and sends as Set-Cookie.

-- /login: a new visitor gets the typical session.
function login(r)
    r.headers_out["X-Replace-Session"] = "user_id=u-4f1c2a9e-7b3d-4c1e-9a57-d2a0&counter=7"
        .. "&roles=reader%2Ceditor&csrf=b1946ac92492d2347c6235b4d2611184"
    r.content_type = "text/plain"
    r:puts("in\n")
    return apache2.OK
end

local function read(r)
    local s = r.subprocess_env["HTTP_SESSION"] or ""
    local user = s:match("user_id=([^&]*)")
    local counter = tonumber(s:match("counter=(%d+)") or "")
    if not user or not counter then
        return nil
    end
    return user, counter
end

-- /full: read user_id and counter, write counter + 1.
function full(r)
    local user, counter = read(r)
    if not user then
        return 500
    end
    r.headers_out["X-Replace-Session"] = "counter=" .. (counter + 1)
    r.content_type = "text/plain"
    r:puts(user, "\n")
    return apache2.OK
end

-- /read: the same without the write.
function readonly(r)
    local user = read(r)
    if not user then
        return 500
    end
    r.content_type = "text/plain"
    r:puts(user, "\n")
    return apache2.OK
end

-- /plain: no session at all: what Apache, mod_lua and HTTP cost alone.
function plain(r)
    r.content_type = "text/plain"
    r:puts("u-4f1c2a9e-7b3d-4c1e-9a57-d2a0\n")
    return apache2.OK
end
