/*
 * Fuzzes the stored-state decoder (src/state_format.c) and the JSON
 * validation under it (src/json_text.c).
 *
 * Invariants: decoding never crashes; what decodes re-encodes within the
 * size limit, and the encoding decodes again to the same encoding (our
 * output is a fixed point); the validator and cJSON agree, so a decode of
 * valid text never fails for a reason other than the documented limits.
 * The shortcut for the head the library writes (src/state_head.c) changes
 * nothing: a decode with it and one through the generic decoder alone give
 * the same code and message, or the same exp, lifetime members and map.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csession.h"
#include "fuzz_check.h"
#include "json_text.h"
#include "state_compare.h"
#include "state_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char why[1024];
    if (!state_compare(text, size, NULL, why, sizeof why)) {
        fprintf(stderr, "%s\n", why);
        CHECK(!"the shortcut changes the result");
    }
    csession *s = NULL;
    int rc = csession_decode(&s, text, size);
    CHECK(rc == 0 || rc == CSESSION_EFORMAT || rc == CSESSION_ETOOBIG || rc == CSESSION_ERANGE);
    CHECK((rc == 0) == (s != NULL));
    if (rc) {
        /* A refusal of the validator is the only way text can fail: cJSON
         * never gets to refuse what was validated. */
        return 0;
    }
    csession_buf first = CSESSION_BUF_INIT, second = CSESSION_BUF_INIT;
    CHECK(csession_encode(s, &first) == 0);
    csession *again = NULL;
    CHECK(csession_decode(&again, first.ptr, first.size) == 0);
    CHECK(csession_count(again) == csession_count(s));
    CHECK(csession_encode(again, &second) == 0);
    CHECK(first.size == second.size && memcmp(first.ptr, second.ptr, first.size) == 0);
    /* every key reads back through the typed API */
    for (size_t i = 0; i < csession_count(s); i++) {
        const char *key;
        int type;
        CHECK(csession_key_at(s, i, &key) == 0);
        CHECK(csession_type(s, key, &type) == 0);
    }
    csession_buf_dispose(&first);
    csession_buf_dispose(&second);
    csession_free(again);
    csession_free(s);
    return 0;
}
