#!/usr/bin/env python3
"""End-to-end test of a user's sessions in examples/server, over HTTP.

usage: test_users.py PATH/TO/session_server

On the memory store, and on Redis when CSESSION_TEST_REDIS_URL or the ctest
fixture names a server: three cookie jars log in as the same user with
different User-Agents, GET /sessions lists three with one current, ending
one gives that jar 401, POST /logout_all from another gives every jar of the
user 401 (and its own a removal cookie), and another user's session keeps
working throughout. The cookie store answers 500 on GET /sessions: it keeps
no server-side record to list.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server as t  # noqa: E402  (the Server, curl and jar helpers)

check = t.check


# User ids of this run: the e2e tests of both demo servers share one Redis
# server, and ending "every session of alice" must not reach the other's.
RUN = "-%d" % os.getpid()


def login(srv, jar, user, agent):
    r = t.curl(srv.base + "/login", jar, "POST", data='{"user_id": "%s"}' % (user + RUN),
               headers=("User-Agent: " + agent,))
    check(r.status == 200, "login of %s: %r" % (user, r))
    return r


def sessions(srv, jar):
    return t.curl(srv.base + "/sessions", jar)


def flow(store):
    print("== user sessions on %s" % store)
    srv = t.Server("--store", store, "--insecure")
    try:
        jars = [os.path.join(t.WORK, "users-%d" % i) for i in range(4)]
        for j in jars:
            if os.path.exists(j):
                os.unlink(j)
        r = sessions(srv, jars[0])
        check(r.status == 401, "GET /sessions before login: %r" % r)
        agents = ["Firefox on Linux", "Phone", "Tablet"]
        for j, agent in zip(jars[:3], agents):
            login(srv, j, "alice", agent)
        login(srv, jars[3], "bob", "Bob's browser")

        r = sessions(srv, jars[1])
        check(r.status == 200, "GET /sessions: %r" % r)
        listed = r.json()
        check(isinstance(listed, list) and len(listed) == 3, "three sessions: %r" % listed)
        for item in listed:
            check(set(item) == {"id", "label", "created", "last_seen", "current"},
                  "fields of %r" % item)
            check(item["created"] > 0 and item["last_seen"] >= item["created"],
                  "times of %r" % item)
        current = [i for i in listed if i["current"]]
        check(len(current) == 1 and current[0]["label"] == "Phone",
              "one current session, the phone's: %r" % listed)
        check(sorted(i["label"] for i in listed) == sorted(agents), "labels: %r" % listed)
        bob = sessions(srv, jars[3]).json()
        check(len(bob) == 1 and bob[0]["current"] and bob[0]["label"] == "Bob's browser",
              "bob's own list: %r" % bob)

        # the tablet's session, ended from the laptop
        tablet = [i["id"] for i in listed if i["label"] == "Tablet"][0]
        r = t.curl(srv.base + "/sessions/end", jars[0], "POST", data='{"id": "%s"}' % tablet)
        check(r.status == 200, "POST /sessions/end: %r" % r)
        check(sessions(srv, jars[2]).status == 401, "the ended jar is logged out")
        check(len(sessions(srv, jars[0]).json()) == 2, "two sessions left")
        r = t.curl(srv.base + "/sessions/end", jars[0], "POST", data='{"id": "%s"}' % bob[0]["id"])
        check(r.status == 404, "bob's session is not alice's to end: %r" % r)
        r = t.curl(srv.base + "/sessions/end", jars[0], "POST", data='{"nope": 1}')
        check(r.status == 400, "a body without an id: %r" % r)

        # log out everywhere, from the phone
        r = t.curl(srv.base + "/logout_all", jars[1], "POST")
        check(r.status == 200 and r.json() == {"ended": 2}, "POST /logout_all: %r" % r)
        removal = [c for c in r.set_cookies() if "Max-Age=0" in c]
        check(removal, "a removal cookie for the jar that logged out everywhere: %r" % r)
        for j in jars[:3]:
            check(sessions(srv, j).status == 401, "every jar of alice is logged out")
            check(t.curl(srv.base + "/protected/count", j).status == 401,
                  "and the protected page says so")
        r = sessions(srv, jars[3])
        check(r.status == 200 and len(r.json()) == 1, "bob's session keeps working: %r" % r)
        r = t.curl(srv.base + "/protected/count", jars[3])
        check(r.status == 200 and r.json()["user_id"] == "bob" + RUN, "bob is logged in: %r" % r)
        check(t.curl(srv.base + "/logout_all", jars[0], "POST").status == 401,
              "POST /logout_all without a login")
    finally:
        srv.stop()


def cookie_store():
    print("== user sessions on the cookie store: no index")
    srv = t.Server("--store", "cookie", "--insecure")
    try:
        jar = os.path.join(t.WORK, "users-cookie")
        login(srv, jar, "alice", "Firefox")
        r = sessions(srv, jar)
        check(r.status == 500, "GET /sessions on the cookie store: %r" % r)
    finally:
        err = srv.stop()
    check("no index of a user's sessions" in err, "the reason is logged")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    t.SERVER = os.path.abspath(sys.argv[1])
    if not shutil.which("curl"):
        print("curl is needed (apt-get install curl)", file=sys.stderr)
        return 1
    t.WORK = tempfile.mkdtemp(prefix="csession-e2e-users-")
    try:
        flow("memory")
        redis = t.redis_url()
        if redis:
            flow(redis)
        else:
            print("== redis: skipped (no CSESSION_TEST_REDIS_URL and no redis fixture)")
        cookie_store()
    except t.Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(t.WORK, ignore_errors=True)
    print("e2e users: all passed (%d curl requests)" % t.CURL_COUNT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
