/*
 * A log handler for tests: keeps the messages the library logs (the first
 * LOG_CAPTURE_MAX of them) so that a test can look for one.
 */
#ifndef CSESSION_TEST_LOG_CAPTURE_H
#define CSESSION_TEST_LOG_CAPTURE_H

#include <pthread.h>

#define LOG_CAPTURE_MAX 256

typedef struct log_capture {
    pthread_mutex_t lock;
    int count; /* messages received, kept or not */
    int levels[LOG_CAPTURE_MAX];
    char messages[LOG_CAPTURE_MAX][512];
} log_capture;

/* Empties `c` and makes it the process' log handler. */
void log_capture_start(log_capture *c);

/* Turns logging off again (`c` keeps what it got). */
void log_capture_stop(log_capture *c);

/* How many kept messages contain `needle`, at `level` (0: any level). */
int log_capture_find(log_capture *c, int level, const char *needle);

/* Prints every kept message to stderr, for a failing test. */
void log_capture_print(log_capture *c);

#endif
