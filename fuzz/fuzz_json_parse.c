/*
 * Fuzzes the one-pass JSON reader (src/json_text.c) and printer
 * (src/json_print.c) against cJSON.
 *
 * Invariants: what csession reads, cJSON reads too, into the same tree
 * (names, strings, numbers bit for bit); what cJSON refuses, csession
 * refuses; csession's text of a tree reads back as the same tree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "fuzz_check.h"
#include "json_gen.h"
#include "json_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    cJSON *ours = NULL;
    int rc = csession__json_parse(text, size, 32, &ours);
    CHECK(rc == 0 || rc == CSESSION_EFORMAT || rc == CSESSION_ETOOBIG || rc == CSESSION_ERANGE);
    CHECK((rc == 0) == (ours != NULL));
    cJSON *theirs = cJSON_ParseWithLength(text, size);
    if (!theirs) {
        CHECK(rc != 0);
        return 0;
    }
    if (rc == 0) {
        CHECK(json_gen_same(ours, theirs));
        csession_buf printed = CSESSION_BUF_INIT;
        CHECK(csession__json_print_append(ours, &printed) == 0);
        cJSON *again = NULL;
        CHECK(csession__json_parse(printed.ptr, printed.size, 32, &again) == 0);
        CHECK(json_gen_same(ours, again));
        cJSON_Delete(again);
        csession_buf_dispose(&printed);
    }
    cJSON_Delete(ours);
    cJSON_Delete(theirs);
    return 0;
}
