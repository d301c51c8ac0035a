/*
 * The non-blocking driver of the request flow: the same step machine as
 * the blocking calls (manager_flow.h), with each store operation started
 * on an event loop (sys/store.h version 3) and the flow stepped again from
 * its completion. Stores without `start`, and kinds a store answers
 * CSESSION_EUNSUPPORTED for, run their blocking member inline on the
 * loop's thread.
 *
 * The flow is driven by iteration: a store that completes inside `start`
 * only records the answer, and the loop in drive() carries on, so that a
 * long commit on a store that never waits does not grow the stack.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "csession/manager.h"
#include "error.h"
#include "manager_flow.h"
#include "session.h"
#include "store.h"

struct csession_request {
    csession_manager *mgr;
    csession_loop *loop;
    csession__flow *flow;
    csession_done_cb done;
    void *arg;
    /* The timer that runs `done` on the loop's next turn when the flow
     * ended inside the call that started it. */
    void *timer;
    int in_api;    /* inside the csession_manager_*_async() call */
    int in_start;  /* inside the store's start */
    int in_flight; /* a started store call whose complete has not run */
    int answered;  /* complete ran: its code and message below */
    int again;     /* the store call was turned into another one: start it */
    int answer_code;
    int has_message;
    char answer_message[512];
    /* The outcome, for `done`. */
    int code;
    char message[512];
    csession *loaded; /* a load's session until `done` takes it */
    csession *session; /* a commit's or reload's */
    /* A read on a store that never waits starts on the loop's next turn
     * (see launch_read()); the Cookie header is kept until then. */
    int start_pending;
    char *header;
};

static void drive(csession_request *q);

static void request_free(csession_request *q)
{
    if (q->timer)
        q->loop->timer_close(q->loop, q->timer);
    csession__flow_free(q->flow);
    csession_free(q->loaded);
    if (q->header)
        csession__free(q->header);
    csession__free(q);
}

/* Runs `done` and releases the request; the callback owns a load's session. */
static void deliver(csession_request *q)
{
    csession_done_cb done = q->done;
    void *arg = q->arg;
    int code = q->code;
    csession *s = q->loaded ? q->loaded : q->session;
    char message[sizeof q->message];
    memcpy(message, q->message, sizeof message);
    q->loaded = NULL;
    request_free(q);
    done(arg, code, code ? message : NULL, s);
}

static void deferred(void *arg)
{
    csession_request *q = arg;
    if (!q->start_pending) {
        deliver(q);
        return;
    }
    q->start_pending = 0; /* launch_read(): the flow starts now */
    drive(q);
}

/* The flow ended with `code`: keep its message (the thread's last error is
 * another one by the time `done` runs), then run `done`, from the loop. */
static void finish(csession_request *q, int code)
{
    q->code = code;
    q->message[0] = '\0';
    if (code)
        snprintf(q->message, sizeof q->message, "%s", csession_last_error());
    csession__flow_free(q->flow);
    q->flow = NULL;
    if (q->in_api)
        return; /* the call arms the timer before it returns */
    deliver(q);
}

/* The answer complete recorded, held to the store contract and given to
 * the flow. */
static void take_answer(csession_request *q)
{
    csession_store_call *call = csession__flow_call(q->flow);
    int touched = 0;
    q->answered = 0;
    int rc = csession__store_finish(call, q->answer_code,
                                    q->has_message ? q->answer_message : NULL, &touched);
    if (rc == CSESSION__STORE_AGAIN)
        q->again = 1;
    else
        csession__flow_answer(q->flow, rc, touched);
}

static void complete(csession_store_call *call, int code, const char *message)
{
    csession_request *q = call->library_data;
    q->answered = 1;
    q->answer_code = code;
    q->has_message = message != NULL;
    if (message)
        snprintf(q->answer_message, sizeof q->answer_message, "%s", message);
    if (q->in_start)
        return; /* drive() goes on once start returns */
    q->in_flight = 0;
    take_answer(q);
    drive(q);
}

/* Steps the flow until it waits for a store call or ends. */
static void drive(csession_request *q)
{
    const csession__store_caps *caps;
    csession_store *store = csession__manager_store(q->mgr, &caps);
    for (;;) {
        if (!q->again) {
            int rc = csession__flow_step(q->flow);
            if (rc != CSESSION__FLOW_YIELD) {
                finish(q, rc);
                return;
            }
        }
        q->again = 0;
        csession_store_call *call = csession__flow_call(q->flow);
        call->loop = q->loop;
        call->complete = complete;
        call->library_data = q;
        call->store_data = NULL;
        q->in_start = 1;
        int rc = csession__store_start(store, caps, call);
        q->in_start = 0;
        if (rc == CSESSION_EUNSUPPORTED) {
            int touched = 0;
            rc = csession__store_run(store, caps, call, &touched);
            csession__flow_answer(q->flow, rc, touched);
        } else if (rc) {
            q->answered = 0; /* a store that failed to start must not complete */
            csession__flow_answer(q->flow, rc, 0);
        } else if (q->answered) {
            take_answer(q); /* completed inside start */
        } else {
            q->in_flight = 1;
            return; /* complete() resumes */
        }
    }
}

/* A request for `mgr` on `loop`, with the timer that may run `done`. */
static int request_new(csession_request **out, csession_manager *mgr, csession_loop *loop,
                       csession_done_cb done, void *arg)
{
    *out = NULL;
    if (!mgr || !loop || !done)
        return csession__error(CSESSION_EINVAL, "NULL manager, loop or callback");
    if (loop->version < 1 || !loop->timer_open || !loop->timer_set || !loop->timer_close ||
        !loop->timer_cancel || !loop->io_open || !loop->io_set || !loop->io_close)
        return csession__error(CSESSION_EINVAL, "loop of version %u or with a missing member",
                               loop->version);
    csession_request *q = csession__calloc(1, sizeof *q);
    if (!q)
        return csession__oom();
    q->mgr = mgr;
    q->loop = loop;
    q->done = done;
    q->arg = arg;
    q->flow = csession__flow_new();
    q->timer = q->flow ? loop->timer_open(loop, deferred, q) : NULL;
    if (!q->timer) {
        request_free(q);
        return csession__error(CSESSION_ENOMEM, "out of memory (or the loop refused a timer)");
    }
    *out = q;
    return 0;
}

/*
 * Runs the flow as far as it goes without waiting. When it ended already,
 * `done` runs from the timer on the loop's next turn, never inside this
 * call. On failure nothing will run and the request is gone.
 */
static int launch(csession_request *q, csession_request **request)
{
    q->in_api = 1;
    drive(q);
    q->in_api = 0;
    if (!q->flow && q->loop->timer_set(q->loop, q->timer, 0) != 0) {
        request_free(q);
        return csession__error(CSESSION_ERROR, "the loop refused to arm a timer");
    }
    if (request)
        *request = q;
    return 0;
}

/*
 * A load or reload on a store that never waits (no `start`): the flow runs
 * from the timer on the loop's next turn, and `done` right after it, in the
 * same callback. So the state a request reads and the commit its callback
 * starts at once happen in one loop callback, as on a blocking thread, and
 * two requests on one loop meet only where two threads would: without it,
 * every other request of the loop's turn could write in between, and the
 * requests of a busy session kept conflicting.
 */
static int launch_read(csession_request *q, csession_request **request)
{
    const csession__store_caps *caps;
    csession__manager_store(q->mgr, &caps);
    if (caps->start)
        return launch(q, request);
    q->start_pending = 1;
    if (q->loop->timer_set(q->loop, q->timer, 0) != 0) {
        request_free(q);
        return csession__error(CSESSION_ERROR, "the loop refused to arm a timer");
    }
    if (request)
        *request = q;
    return 0;
}

static int load_async(csession_manager *mgr, csession_loop *loop, const char *header,
                      size_t header_len, int token, csession_done_cb done, void *arg,
                      csession_request **request)
{
    csession *unused;
    csession_request *q;
    if (request)
        *request = NULL;
    int rc = csession__flow_check_load(mgr, header, header_len, &unused);
    if (!rc)
        rc = request_new(&q, mgr, loop, done, arg);
    if (rc)
        return rc;
    /* The header is read by the first step only: kept until then when that
     * step runs later (launch_read()), read inside this call otherwise. */
    const csession__store_caps *caps;
    csession__manager_store(mgr, &caps);
    if (header_len && !caps->start) {
        if (!(q->header = csession__malloc(header_len))) {
            request_free(q);
            return csession__oom();
        }
        memcpy(q->header, header, header_len);
        header = q->header;
    }
    csession__flow_begin_load(q->flow, mgr, header, header_len, token, &q->loaded);
    return launch_read(q, request);
}

int csession_manager_load_async(csession_manager *mgr, csession_loop *loop, const char *header,
                                size_t header_len, csession_done_cb done, void *arg,
                                csession_request **request)
{
    return load_async(mgr, loop, header, header_len, 0, done, arg, request);
}

int csession_manager_load_token_async(csession_manager *mgr, csession_loop *loop,
                                      const char *token, size_t token_len,
                                      csession_done_cb done, void *arg,
                                      csession_request **request)
{
    return load_async(mgr, loop, token, token_len, 1, done, arg, request);
}

static int commit_async(csession_manager *mgr, csession_loop *loop, csession *s,
                        csession_buf *set_cookie, csession_buf *token, int *action,
                        csession_done_cb done, void *arg, csession_request **request)
{
    csession_request *q;
    if (request)
        *request = NULL;
    int rc = csession__flow_check_commit(mgr, s, set_cookie ? set_cookie : token, action,
                                         set_cookie == NULL);
    if (!rc)
        rc = request_new(&q, mgr, loop, done, arg);
    if (rc)
        return rc;
    q->session = s;
    csession__flow_begin_commit(q->flow, mgr, s, set_cookie, token, action);
    return launch(q, request);
}

int csession_manager_commit_async(csession_manager *mgr, csession_loop *loop, csession *s,
                                  csession_buf *set_cookie, csession_done_cb done, void *arg,
                                  csession_request **request)
{
    return commit_async(mgr, loop, s, set_cookie, NULL, NULL, done, arg, request);
}

int csession_manager_commit_token_async(csession_manager *mgr, csession_loop *loop,
                                        csession *s, csession_buf *token, int *action,
                                        csession_done_cb done, void *arg,
                                        csession_request **request)
{
    return commit_async(mgr, loop, s, NULL, token, action, done, arg, request);
}

int csession_manager_reload_async(csession_manager *mgr, csession_loop *loop, csession *s,
                                  csession_done_cb done, void *arg, csession_request **request)
{
    csession_request *q;
    if (request)
        *request = NULL;
    int rc = csession__flow_check_reload(mgr, s);
    if (!rc)
        rc = request_new(&q, mgr, loop, done, arg);
    if (rc)
        return rc;
    q->session = s;
    csession__flow_begin_reload(q->flow, mgr, s);
    return launch_read(q, request);
}

void csession_request_abandon(csession_request *request)
{
    if (!request)
        return;
    if (request->in_flight) {
        const csession__store_caps *caps;
        csession_store *store = csession__manager_store(request->mgr, &caps);
        csession__store_cancel(store, csession__flow_call(request->flow));
    }
    request_free(request);
}
