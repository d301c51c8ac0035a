// The adapter headers as C++: see test_loop_headers.c.
#include "test_loop_headers.c"
