/* The key ring: master keys with their precomputed per-key state. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "cookie/keyring.h"
#include "csession/errors.h"
#include "csession/library.h"
#include "error.h"

#define KEY_ALIGN 16

/* Where a key lives: `block` is what was allocated, `key` the aligned
 * address inside it (allocators need not align to 16 bytes). */
typedef struct slot {
    void *block;
    csession__key *key;
} slot;

struct csession_keyring {
    unsigned int flags;
    size_t count;
    int all_locked;
    slot slots[CSESSION_KEYRING_MAX_KEYS];
};

#define BLOCK_BYTES (sizeof(csession__key) + KEY_ALIGN - 1)

size_t csession_keyring_max_keys(void)
{
    return CSESSION_KEYRING_MAX_KEYS;
}

static int wants_lock(const csession_keyring *ring)
{
    return (ring->flags & (CSESSION_KEYRING_MLOCK | CSESSION_KEYRING_MLOCK_REQUIRED)) != 0;
}

int csession_keyring_new(csession_keyring **out, unsigned int flags)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    if (flags & ~(CSESSION_KEYRING_MLOCK | CSESSION_KEYRING_MLOCK_REQUIRED))
        return csession__error(CSESSION_EINVAL, "unknown key ring flags 0x%x", flags);
    int rc = csession_init();
    if (rc)
        return rc;
    csession_keyring *ring = csession__calloc(1, sizeof *ring);
    if (!ring)
        return csession__oom();
    ring->flags = flags;
    ring->all_locked = 1;
    *out = ring;
    return 0;
}

static void release_slot(const csession_keyring *ring, slot *s)
{
    if (!s->block)
        return;
    if (wants_lock(ring)) {
        /* sodium_free wipes, unlocks and unmaps the guarded pages. */
        sodium_free(s->block);
    } else {
        sodium_memzero(s->block, BLOCK_BYTES);
        csession__free(s->block);
    }
    s->block = NULL;
    s->key = NULL;
}

void csession_keyring_free(csession_keyring *ring)
{
    if (!ring)
        return;
    for (size_t i = 0; i < ring->count; i++)
        release_slot(ring, &ring->slots[i]);
    csession__free(ring);
}

/*
 * Locked keys get pages of their own from sodium_malloc(): mlock works on
 * whole pages and does not nest, so locking heap memory shared with other
 * objects could be undone by anyone's munlock. These few pages bypass the
 * allocator hook, which cannot give page-aligned memory. sodium_malloc()
 * locks too but ignores failure, so the lock is taken again to learn it.
 */
static int alloc_slot(const csession_keyring *ring, slot *s, int *locked)
{
    *locked = 0;
    if (wants_lock(ring)) {
        s->block = sodium_malloc(BLOCK_BYTES);
        if (!s->block)
            return csession__oom();
        *locked = sodium_mlock(s->block, BLOCK_BYTES) == 0;
        if (!*locked && (ring->flags & CSESSION_KEYRING_MLOCK_REQUIRED)) {
            sodium_free(s->block);
            s->block = NULL;
            return csession__error(CSESSION_EUNSUPPORTED,
                                   "cannot lock key memory into RAM (raise RLIMIT_MEMLOCK, or "
                                   "use CSESSION_KEYRING_MLOCK to make locking optional)");
        }
    } else {
        s->block = csession__malloc(BLOCK_BYTES);
        if (!s->block)
            return csession__oom();
    }
    uintptr_t addr = (uintptr_t)s->block;
    s->key = (csession__key *)(void *)((addr + KEY_ALIGN - 1) & ~(uintptr_t)(KEY_ALIGN - 1));
    return 0;
}

static void precompute(csession__key *k, const unsigned char *master)
{
    memset(k, 0, sizeof *k);
    memcpy(k->master, master, CSESSION_KEY_BYTES);
    crypto_auth_hmacsha256_init(&k->hmac, master, CSESSION__SIGN_KEY_BYTES);
    csession__key_xchacha_subkey(k->xchacha, master);
    /* Without AES-NI libsodium has no AES-GCM at all; the mode is refused
     * at seal/open time, so the state simply stays unset. */
    if (crypto_aead_aes256gcm_is_available())
        k->aes_ready = crypto_aead_aes256gcm_beforenm(&k->aes,
                                                      master + CSESSION__SIGN_KEY_BYTES) == 0;
}

int csession_keyring_add(csession_keyring *ring, const unsigned char *key, size_t key_len)
{
    if (!ring || !key)
        return csession__error(CSESSION_EINVAL, "key ring or key is NULL");
    if (key_len != CSESSION_KEY_BYTES)
        return csession__error(CSESSION_EINVAL, "a key is %d bytes, not %zu", CSESSION_KEY_BYTES,
                               key_len);
    if (ring->count == CSESSION_KEYRING_MAX_KEYS)
        return csession__error(CSESSION_ETOOBIG, "a key ring holds at most %d keys",
                               CSESSION_KEYRING_MAX_KEYS);
    for (size_t i = 0; i < ring->count; i++)
        if (sodium_memcmp(ring->slots[i].key->master, key, CSESSION_KEY_BYTES) == 0)
            return csession__error(CSESSION_EINVAL, "this key is already in the ring (index %zu)",
                                   i);

    slot *s = &ring->slots[ring->count];
    int locked;
    int rc = alloc_slot(ring, s, &locked);
    if (rc)
        return rc;
    precompute(s->key, key);
    ring->all_locked = ring->all_locked && locked;
    ring->count++;
    return 0;
}

int csession_keyring_add_text(csession_keyring *ring, const char *text, size_t text_len)
{
    unsigned char key[CSESSION_KEY_BYTES];
    int rc = csession_key_from_text(key, sizeof key, text, text_len);
    if (rc == 0)
        rc = csession_keyring_add(ring, key, sizeof key);
    sodium_memzero(key, sizeof key);
    return rc;
}

int csession_keyring_add_derived(csession_keyring *ring, const unsigned char *secret,
                                 size_t secret_len)
{
    unsigned char key[CSESSION_KEY_BYTES];
    int rc = csession_key_derive(key, sizeof key, secret, secret_len);
    if (rc == 0)
        rc = csession_keyring_add(ring, key, sizeof key);
    sodium_memzero(key, sizeof key);
    return rc;
}

size_t csession_keyring_count(const csession_keyring *ring)
{
    return ring ? ring->count : 0;
}

int csession_keyring_locked(const csession_keyring *ring)
{
    return ring && wants_lock(ring) && ring->count > 0 && ring->all_locked;
}

const csession__key *csession__keyring_key(const csession_keyring *ring, size_t index)
{
    return ring && index < ring->count ? ring->slots[index].key : NULL;
}

int csession__keyring_copy(const csession_keyring *src, csession_keyring **out)
{
    int rc = csession_keyring_new(out, src->flags);
    for (size_t i = 0; !rc && i < src->count; i++)
        rc = csession_keyring_add(*out, src->slots[i].key->master, CSESSION_KEY_BYTES);
    if (rc) {
        csession_keyring_free(*out);
        *out = NULL;
    }
    return rc;
}
