/* The conformance suite on the call-counting fake store (no expiry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conformance.h"
#include "fake_store.h"

static int new_store(csession_store **out, void *ctx)
{
    (void)ctx;
    *out = fake_store_base(fake_store_new());
    return 0;
}

int main(void)
{
    conformance_target t = { "fake", new_store, NULL, NULL, 1, NULL };
    return conformance_run(&t);
}
