/* Round trips counted with MONITOR: see redis_monitor.h. */
#include "redis_monitor.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

static redisContext *connect_to(const char *host, int port)
{
    redisContext *c = redisConnect(host, port);
    if (!c || c->err) {
        fprintf(stderr, "cannot connect to %s:%d: %s\n", host, port, c ? c->errstr : "no memory");
        redisFree(c);
        return NULL;
    }
    return c;
}

int redis_commands_during(const char *host, int port, void (*run)(void *), void *arg)
{
    redisContext *mon = connect_to(host, port), *other = connect_to(host, port);
    redisReply *r = mon ? redisCommand(mon, "MONITOR") : NULL;
    if (!r || !other) {
        if (r)
            freeReplyObject(r);
        redisFree(mon);
        redisFree(other);
        return -1;
    }
    freeReplyObject(r);
    run(arg);
    char marker[64];
    snprintf(marker, sizeof marker, "end-of-step-%ld", (long)getpid());
    r = redisCommand(other, "ECHO %s", marker);
    redisFree(other);
    if (!r) {
        redisFree(mon);
        return -1;
    }
    freeReplyObject(r);
    int n = 0;
    for (;;) {
        void *reply = NULL;
        if (redisGetReply(mon, &reply) != REDIS_OK) {
            n = -1;
            break;
        }
        r = reply;
        int end = r->type == REDIS_REPLY_STATUS && strstr(r->str, marker) != NULL;
        if (!end && r->type == REDIS_REPLY_STATUS && !strstr(r->str, " lua]"))
            n++;
        freeReplyObject(r);
        if (end)
            break;
    }
    redisFree(mon);
    return n;
}
