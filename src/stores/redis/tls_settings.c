/*
 * TLS settings of a Redis store: the rediss URL's parameters with the
 * store's options over them. Compiled with and without TLS, so that both
 * builds parse the same URLs and refuse the same mistakes.
 */
#include <string.h>

#include "csession/store_redis.h"
#include "error.h"
#include "tls.h"
#include "url.h"

void csession__redis_tls_settings_init(csession__redis_tls_settings *s)
{
    memset(s, 0, sizeof *s);
    s->min_version = CSESSION__REDIS_TLS_DEFAULT;
    s->verify = 1;
}

int csession__redis_tls_parse_version(const char *s, size_t len, csession__redis_tls_version *out)
{
    if (len == 3 && memcmp(s, "1.2", 3) == 0)
        *out = CSESSION__REDIS_TLS_1_2;
    else if (len == 3 && memcmp(s, "1.3", 3) == 0)
        *out = CSESSION__REDIS_TLS_1_3;
    else
        return -1;
    return 0;
}

/* `opt` when set, else `from_url`. */
static const char *pick(const char *opt, const char *from_url)
{
    return opt ? opt : from_url;
}

int csession__redis_tls_for_store(csession__redis_tls **out, const csession__redis_url *url,
                                  const csession_store_redis_options *o)
{
    *out = NULL;
    int any_option = o->tls_ca_file || o->tls_ca_dir || o->tls_cert_file || o->tls_key_file ||
                     o->tls_server_name || o->tls_min_version || o->tls_verify;
    if (!url->tls.on) {
        if (any_option)
            return csession__error(CSESSION_EINVAL,
                                   "Redis store: TLS options need a rediss URL (rediss://, "
                                   "rediss+sentinel:// or rediss+cluster://)");
        return 0;
    }
    csession__redis_tls_settings s;
    csession__redis_tls_settings_init(&s);
    s.ca_file = pick(o->tls_ca_file, url->tls.ca_file);
    s.ca_dir = pick(o->tls_ca_dir, url->tls.ca_dir);
    s.cert_file = pick(o->tls_cert_file, url->tls.cert_file);
    s.key_file = pick(o->tls_key_file, url->tls.key_file);
    s.server_name = pick(o->tls_server_name, url->tls.server_name);
    s.min_version = (csession__redis_tls_version)url->tls.min_version;
    if (o->tls_min_version &&
        csession__redis_tls_parse_version(o->tls_min_version, strlen(o->tls_min_version),
                                          &s.min_version) != 0)
        return csession__error(CSESSION_EINVAL,
                               "Redis store option tls_min_version must be \"1.2\" or \"1.3\"");
    if (o->tls_verify < -1 || o->tls_verify > 1)
        return csession__error(CSESSION_EINVAL,
                               "Redis store option tls_verify must be 0, 1 or -1");
    s.verify = o->tls_verify == 0 ? url->tls.verify : o->tls_verify == 1;
    if (s.server_name && !*s.server_name)
        return csession__error(CSESSION_EINVAL, "Redis store option tls_server_name is empty");
    if ((s.cert_file != NULL) != (s.key_file != NULL))
        return csession__error(CSESSION_EINVAL,
                               "Redis store: a TLS client certificate needs its key and a key "
                               "its certificate (tls_cert_file and tls_key_file)");
    char err[256] = "";
    int rc = csession__redis_tls_new(out, &s, err, sizeof err);
    if (rc)
        return csession__error(rc, "Redis store: %s", err);
    return 0;
}
