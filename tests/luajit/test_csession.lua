-- The library through LuaJIT's FFI, declared by scripts/luajit-cdef.sh alone:
-- a session's life through the manager (no cookie, a counter written and
-- read back from the cookie it sent, a type error with its message, logout).
--
-- usage: luajit test_csession.lua CDEF_SCRIPT LIBRARY [CPPFLAGS...]
local ffi = require("ffi")

local script, library = arg[1], arg[2]
assert(script and library, "usage: luajit test_csession.lua CDEF_SCRIPT LIBRARY [CPPFLAGS...]")
local command = { script }
for i = 3, #arg do command[#command + 1] = arg[i] end
local pipe = assert(io.popen(table.concat(command, " ")))
local cdef = pipe:read("*a")
pipe:close()
assert(cdef:find("csession_manager_load", 1, true), "no declarations from " .. script)
-- Only csession's own declarations: nothing of the C library's headers (whose
-- internals are all __names) that could clash with another module's cdef.
local stray = cdef:match("[%w_]*__[%w_]*")
assert(not stray, "the declarations carry more than csession's API: " .. tostring(stray))
ffi.cdef(cdef)
local cs = ffi.load(library)
local C = ffi.C

local function check(rc, what)
    if rc ~= 0 then
        error(what .. ": " .. ffi.string(cs.csession_strerror(rc)) .. ": " ..
              ffi.string(cs.csession_last_error()), 2)
    end
end

local key = ffi.new("unsigned char[64]")
check(cs.csession_key_generate(key, 64), "csession_key_generate")
local pcfg = ffi.new("csession_config *[1]")
check(cs.csession_config_new(pcfg), "csession_config_new")
local cfg = pcfg[0]
check(cs.csession_config_add_key(cfg, key, 64), "csession_config_add_key")
local pmgr = ffi.new("csession_manager *[1]")
check(cs.csession_manager_new(pmgr, cfg, nil), "csession_manager_new")
local mgr = pmgr[0]
cs.csession_config_free(cfg)

-- One request: load from the Cookie header (nil: none), let `handle` read
-- and write the session, commit; returns the Set-Cookie value or nil.
local function request(cookie, handle)
    local ps = ffi.new("csession *[1]")
    check(cs.csession_manager_load(mgr, cookie, cookie and #cookie or 0, ps), "load")
    local s = ps[0]
    handle(s)
    local buf = ffi.new("csession_buf[1]")
    check(cs.csession_manager_commit(mgr, s, buf), "commit")
    local set_cookie = buf[0].size > 0 and ffi.string(buf[0].ptr, buf[0].size) or nil
    cs.csession_buf_dispose(buf)
    cs.csession_free(s)
    return set_cookie
end

local n = ffi.new("int64_t[1]")
local set_cookie = request(nil, function(s)
    assert(cs.csession_get_int64(s, "counter", n) == C.CSESSION_ENOTFOUND)
    check(cs.csession_insert_int64(s, "counter", 1), "insert counter")
    check(cs.csession_insert_string(s, "user_id", "alice"), "insert user_id")
end)
assert(set_cookie and set_cookie:find("^id="), "no session cookie: " .. tostring(set_cookie))
local cookie = "theme=dark; " .. set_cookie:match("^[^;]+")

local again = request(cookie, function(s)
    check(cs.csession_get_int64(s, "counter", n), "get counter")
    assert(tonumber(n[0]) == 1, "counter read back as " .. tostring(n[0]))
    -- A getter on a value of another type fails, and says which key.
    assert(cs.csession_get_int64(s, "user_id", n) == C.CSESSION_ETYPE)
    assert(cs.csession_last_error_code() == C.CSESSION_ETYPE)
    local message = ffi.string(cs.csession_last_error())
    assert(message:find("user_id", 1, true), "message without the key: " .. message)
end)
assert(again == nil, "an unchanged session sent a cookie: " .. tostring(again))

local removal = request(cookie, function(s) check(cs.csession_purge(s), "purge") end)
assert(removal and removal:find("Max-Age=0", 1, true), "no removal cookie: " .. tostring(removal))
request(cookie, function(s)
    assert(cs.csession_get_int64(s, "counter", n) == C.CSESSION_ENOTFOUND, "a purged session came back")
end)

cs.csession_manager_free(mgr)
print("luajit: a session through the manager, declared by " .. script .. ": ok")
