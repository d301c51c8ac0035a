/* Temporary directories for tests that need files (database files, sockets). */
#ifndef CSESSION_TEST_TEMP_DIR_H
#define CSESSION_TEST_TEMP_DIR_H

#include <stddef.h>

/* Makes a new directory $TMPDIR/csession-<tag>-XXXXXX (TMPDIR defaults to
 * /tmp) and writes its path into out[0..size). 0, or -1 with a message on
 * stderr. */
int temp_dir_make(char *out, size_t size, const char *tag);

/* Removes `dir` with everything in it (without following symbolic links).
 * An empty string does nothing. */
void temp_dir_remove(const char *dir);

#endif
