/* Temporary directories for tests: see temp_dir.h. */
#define _XOPEN_SOURCE 700 /* nftw() */

#include "temp_dir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int temp_dir_make(char *out, size_t size, const char *tag)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(out, size, "%s/csession-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "temp_dir_make: path too long\n");
        return -1;
    }
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void temp_dir_remove(const char *dir)
{
    if (dir && dir[0])
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
