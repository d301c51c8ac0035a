#include "log_capture.h"

#include <stdio.h>
#include <string.h>

#include "csession.h"

static void capture(int level, const char *message, void *payload)
{
    log_capture *c = payload;
    pthread_mutex_lock(&c->lock);
    if (c->count < LOG_CAPTURE_MAX) {
        c->levels[c->count] = level;
        snprintf(c->messages[c->count], sizeof c->messages[c->count], "%s", message);
    }
    c->count++;
    pthread_mutex_unlock(&c->lock);
}

void log_capture_start(log_capture *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    csession_set_log_handler(capture, c);
}

void log_capture_stop(log_capture *c)
{
    (void)c;
    csession_set_log_handler(NULL, NULL);
}

int log_capture_find(log_capture *c, int level, const char *needle)
{
    int n = 0;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->count && i < LOG_CAPTURE_MAX; i++) {
        if ((level == 0 || c->levels[i] == level) && strstr(c->messages[i], needle))
            n++;
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

void log_capture_print(log_capture *c)
{
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->count && i < LOG_CAPTURE_MAX; i++)
        fprintf(stderr, "  log %s: %s\n", csession_log_level_name(c->levels[i]), c->messages[i]);
    if (c->count > LOG_CAPTURE_MAX)
        fprintf(stderr, "  log: %d more\n", c->count - LOG_CAPTURE_MAX);
    pthread_mutex_unlock(&c->lock);
}
