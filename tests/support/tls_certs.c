/* Certificates for the TLS tests: see tls_certs.h. */
#include "tls_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "temp_dir.h"

static void path(char *out, const tls_certs *c, const char *name)
{
    snprintf(out, TLS_CERTS_PATH, "%s/%s", c->dir, name);
}

int tls_certs_make(tls_certs *c)
{
    memset(c, 0, sizeof *c);
    if (temp_dir_make(c->dir, sizeof c->dir, "tls") != 0)
        return -1;
    /* "-days -1" makes a certificate whose end lies before its start:
     * expired from the moment it is made. */
    static const char script[] =
        "set -e; cd '%s'\n"
        "key='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'\n"
        "openssl req -x509 $key -keyout ca.key -out ca.crt -days 30 -subj /CN=csession-test-ca\n"
        "openssl req -x509 $key -keyout other-ca.key -out other-ca.crt -days 30 "
        "-subj /CN=csession-other-ca\n"
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext\n"
        "openssl req $key -keyout server.key -out server.csr -subj /CN=localhost\n"
        "sign() { openssl x509 -req -in \"$1\" -CA \"$2.crt\" -CAkey \"$2.key\" "
        "-CAcreateserial -days \"$3\" -out \"$4\" $5; }\n"
        "sign server.csr ca 30 server.crt '-extfile server.ext'\n"
        "sign server.csr ca -1 expired.crt '-extfile server.ext'\n"
        "sign server.csr other-ca 30 other.crt '-extfile server.ext'\n"
        "openssl req $key -keyout client.key -out client.csr -subj /CN=csession-client\n"
        "sign client.csr ca 30 client.crt ''\n";
    char cmd[sizeof script + sizeof c->dir + 64];
    snprintf(cmd, sizeof cmd, script, c->dir);
    char quiet[sizeof cmd + 32];
    snprintf(quiet, sizeof quiet, "( %s ) >/dev/null 2>&1", cmd);
    if (system(quiet) != 0) {
        fprintf(stderr, "tls_certs_make: the openssl command failed in %s\n", c->dir);
        tls_certs_remove(c);
        return -1;
    }
    path(c->ca, c, "ca.crt");
    path(c->server_cert, c, "server.crt");
    path(c->server_key, c, "server.key");
    path(c->expired_cert, c, "expired.crt");
    path(c->other_ca_cert, c, "other.crt");
    path(c->other_ca, c, "other-ca.crt");
    path(c->client_cert, c, "client.crt");
    path(c->client_key, c, "client.key");
    return 0;
}

void tls_certs_remove(tls_certs *c)
{
    temp_dir_remove(c->dir);
    c->dir[0] = '\0';
}
