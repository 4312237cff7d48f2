/*
 * gx_keyfile.h - secret files: created with mode 0600, refused when group or
 * others may read them (a key readable by others is a key already lost).
 * Their content never reaches a log line or an error message.
 */
#ifndef GX_KEYFILE_H
#define GX_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "gx.h"

#define GX_SECRET_MIN 32
#define GX_SECRET_MAX 1024

/* Read a secret of GX_SECRET_MIN..GX_SECRET_MAX bytes from path into buf
 * (at least GX_SECRET_MAX bytes); *len is set to its size. Refuses a file
 * that is not a regular file or has any group/other permission bit. */
gx_err_t gx_secret_read(const char *path, unsigned char *buf, size_t *len,
			char *errstr, size_t errstr_size);

/* Create path (which must not exist) holding n random bytes, mode 0600. */
gx_err_t gx_secret_create(const char *path, size_t n, char *errstr,
			  size_t errstr_size);

/* HMAC-SHA-256 of the concatenation of the parts, as 64 hex characters. */
void gx_hmac_hex(const unsigned char *key, size_t keylen,
		 const void *const *parts, const size_t *lens, size_t nparts,
		 char out[65]);

/*
 * An HMAC-SHA-256 key made ready once: the states after its inner and outer
 * padded blocks. A call works on its own copies of them and never writes to
 * the key, so one key may serve any number of threads at once.
 */
typedef struct gx_hmac_key gx_hmac_key_t;

/* Never NULL (aborts on exhaustion, as gx_malloc). */
gx_hmac_key_t *gx_hmac_key_new(const unsigned char *key, size_t keylen);
/* Cleanses the key's states; accepts NULL. */
void gx_hmac_key_free(gx_hmac_key_t *k);
/* The same as gx_hmac_hex with k's key; thread-safe. */
void gx_hmac_key_hex(const gx_hmac_key_t *k, const void *const *parts,
		     const size_t *lens, size_t nparts, char out[65]);

#endif /* GX_KEYFILE_H */
