/* Library initialisation and version. */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "csession/library.h"
#include "csession/loop.h"
#include "error.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = CSESSION_ERROR;

static void init_once_fn(void)
{
    /* sodium_init returns 1 when another user of libsodium got there first. */
    init_result = sodium_init() < 0 ? CSESSION_ERROR : CSESSION_OK;
}

int csession_init(void)
{
    pthread_once(&init_once, init_once_fn);
    if (init_result != CSESSION_OK)
        return csession__error(init_result, "libsodium could not be initialised");
    return CSESSION_OK;
}

const char *csession_version(void)
{
    return CSESSION_VERSION_STRING;
}

int csession_version_number(void)
{
    return CSESSION_VERSION_NUMBER;
}

unsigned int csession_features(void)
{
    unsigned int features = CSESSION_FEATURE_REDIS;
#ifdef CSESSION_HAVE_SQLITE
    features |= CSESSION_FEATURE_SQLITE;
#endif
#ifdef CSESSION_HAVE_TLS
    features |= CSESSION_FEATURE_TLS;
#endif
    return features;
}

int csession_has_feature(const char *name)
{
    static const struct {
        const char *name;
        unsigned int bit;
    } names[] = {
        { "redis", CSESSION_FEATURE_REDIS },
        { "sqlite", CSESSION_FEATURE_SQLITE },
        { "tls", CSESSION_FEATURE_TLS },
    };
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(name, names[i].name))
            return (csession_features() & names[i].bit) != 0;
    }
    return 0;
}

unsigned int csession_loop_version(void)
{
    return CSESSION_LOOP_VERSION;
}
