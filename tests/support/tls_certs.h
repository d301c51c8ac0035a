/*
 * Certificates for the TLS tests, made with the openssl command in a new
 * temporary directory: a CA, a server certificate for localhost and
 * 127.0.0.1, the same one expired, the same one signed by another CA, and
 * a client certificate. Keys are P-256, unencrypted PEM.
 */
#ifndef CSESSION_TEST_TLS_CERTS_H
#define CSESSION_TEST_TLS_CERTS_H

#define TLS_CERTS_PATH 320

typedef struct tls_certs {
    char dir[256];
    char ca[TLS_CERTS_PATH];          /* the CA that signs the rest */
    char server_cert[TLS_CERTS_PATH]; /* CN=localhost, DNS:localhost, IP:127.0.0.1 */
    char server_key[TLS_CERTS_PATH];  /* the key of the three server certificates */
    char expired_cert[TLS_CERTS_PATH];
    char other_ca_cert[TLS_CERTS_PATH]; /* the server's, signed by another CA */
    char other_ca[TLS_CERTS_PATH];      /* that other CA */
    char client_cert[TLS_CERTS_PATH];   /* signed by `ca` */
    char client_key[TLS_CERTS_PATH];
} tls_certs;

/* Makes them all. 0, or -1 after printing why (no openssl command, ...). */
int tls_certs_make(tls_certs *c);

/* Removes the directory and everything in it. */
void tls_certs_remove(tls_certs *c);

#endif
