/*
 * Round trips counted on the server: the commands clients sent while a
 * piece of code ran, read with MONITOR up to a marker sent after it
 * (commands that scripts ran are not counted). With no WAIT after writes,
 * each command the Redis store sends is one round trip. Shared by the
 * tests and the benchmarks.
 */
#ifndef CSESSION_TEST_REDIS_MONITOR_H
#define CSESSION_TEST_REDIS_MONITOR_H

/* Commands sent to the server at host:port while run(arg) ran, or -1
 * (after printing why) when the server could not be watched. */
int redis_commands_during(const char *host, int port, void (*run)(void *), void *arg);

#endif
