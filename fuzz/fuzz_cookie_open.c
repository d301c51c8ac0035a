/*
 * Fuzzes opening sealed cookie values (src/cookie/seal.c) in every mode with
 * a fixed two-key ring: input that opens must be something we sealed (it
 * cannot be, for random bytes - an opened forgery aborts), and sealing then
 * opening the input as a value must give it back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cookie/seal.h"
#include "csession.h"
#include "fuzz_check.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static csession_keyring *ring;

static void setup(void)
{
    unsigned char key[CSESSION_KEY_BYTES];
    CHECK(csession_keyring_new(&ring, 0) == 0);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof key; i++)
            key[i] = (unsigned char)(i * 7 + (size_t)k * 13);
        CHECK(csession_keyring_add(ring, key, sizeof key) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int modes[] = { CSESSION_COOKIE_SIGNED, CSESSION_COOKIE_PRIVATE_AES256GCM,
                                 CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305 };
    if (!ring)
        setup();
    csession_buf out = CSESSION_BUF_INIT, sealed = CSESSION_BUF_INIT;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        if (csession_cookie_security_check(modes[m]) != 0)
            continue; /* AES-GCM on a CPU without AES-NI */
        size_t index = 99;
        int rc = csession__cookie_open(&out, &index, ring, modes[m], "id", 2, (const char *)data,
                                       size);
        /* forging a MAC or tag by mutation is infeasible: nothing opens */
        CHECK(rc == CSESSION_EINVALIDCOOKIE || rc == CSESSION_ETOOBIG);
        CHECK(out.size == 0 && index == 99);
        /* round trip with the input as the value */
        rc = csession__cookie_seal(&sealed, ring, modes[m], "id", 2, data, size);
        if (rc == CSESSION_ETOOBIG)
            continue;
        CHECK(rc == 0);
        CHECK(csession__cookie_open(&out, &index, ring, modes[m], "id", 2, sealed.ptr,
                                    sealed.size) == 0);
        CHECK(index == 0 && out.size == size && (size == 0 || memcmp(out.ptr, data, size) == 0));
    }
    csession_buf_dispose(&out);
    csession_buf_dispose(&sealed);
    return 0;
}
