/* The loops of loop_adapters.c, one file per library (loop_adapter_*.c). */
#ifndef CSESSION_TEST_LOOP_ADAPTERS_EACH_H
#define CSESSION_TEST_LOOP_ADAPTERS_EACH_H

#include "conformance_loop.h"

/* Each fills `out` (but its name) and returns 0, or returns -1. */
int loop_adapter_uv_create(conformance_loop *out);
int loop_adapter_event_create(conformance_loop *out);
int loop_adapter_ev_create(conformance_loop *out);

/* Each releases what its create made. */
void loop_adapter_uv_destroy(conformance_loop *l);
void loop_adapter_event_destroy(conformance_loop *l);
void loop_adapter_ev_destroy(conformance_loop *l);

#endif
