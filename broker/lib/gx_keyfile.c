/*
 * gx_keyfile.c - secret files and keyed hashes (OpenSSL 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_keyfile.h"
#include "gx_seal.h"

gx_err_t gx_secret_read(const char *path, unsigned char *buf, size_t *len,
			char *errstr, size_t errstr_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	gx_err_t err = GX_OK;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"%s: not a regular file", path);
	} else if (st.st_mode & 077) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"%s: mode %04o lets group or others read it; "
				"chmod 600 it (and consider it exposed)",
				path, (unsigned)(st.st_mode & 07777));
	} else if (st.st_size < GX_SECRET_MIN || st.st_size > GX_SECRET_MAX) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"%s: a secret must be %d to %d bytes, this is %lld",
				path, GX_SECRET_MIN, GX_SECRET_MAX,
				(long long)st.st_size);
	} else {
		ssize_t n = read(fd, buf, (size_t)st.st_size);
		if (n != st.st_size)
			err = gx_seterr(errstr, errstr_size, GX_ERR_IO,
					"%s: short read", path);
		else
			*len = (size_t)n;
	}
	close(fd);
	return err;
}

gx_err_t gx_secret_create(const char *path, size_t n, char *errstr,
			  size_t errstr_size)
{
	unsigned char buf[GX_SECRET_MAX];
	if (n < GX_SECRET_MIN || n > GX_SECRET_MAX)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "secret size must be %d to %d bytes",
				 GX_SECRET_MIN, GX_SECRET_MAX);
	if (RAND_bytes(buf, (int)n) != 1)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "no randomness available");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot create: %s", path, strerror(errno));
	gx_err_t err = GX_OK;
	if (write(fd, buf, n) != (ssize_t)n || fsync(fd))
		err = gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s", path,
				strerror(errno));
	close(fd);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (err)
		unlink(path);
	return err;
}

/*
 * HMAC as RFC 2104 defines it, H((K ^ opad) || H((K ^ ipad) || m)), with the
 * two padded key blocks hashed once in gx_hmac_key_new: a call only copies
 * those states, where EVP_MAC would fetch the algorithm and hash the key
 * blocks again every time.
 */
struct gx_hmac_key {
	EVP_MD_CTX *inner;	/* after K ^ ipad */
	EVP_MD_CTX *outer;	/* after K ^ opad */
};

enum { SHA256_BLOCK = 64, SHA256_LEN = 32 };

gx_hmac_key_t *gx_hmac_key_new(const unsigned char *key, size_t keylen)
{
	unsigned char k0[SHA256_BLOCK] = {0}, pad[SHA256_BLOCK];
	unsigned int n = 0;
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	gx_hmac_key_t *k = gx_calloc(1, sizeof(*k));
	k->inner = EVP_MD_CTX_new();
	k->outer = EVP_MD_CTX_new();
	if (!md || !k->inner || !k->outer)
		abort(); /* exhaustion, or OpenSSL without SHA-256 */
	/* A key longer than a block is replaced by its hash (RFC 2104 2.). */
	if (keylen > SHA256_BLOCK) {
		if (!EVP_Digest(key, keylen, k0, &n, md, NULL))
			abort();
	} else if (keylen) {
		memcpy(k0, key, keylen);
	}
	for (size_t i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k0[i] ^ 0x36;
	if (!EVP_DigestInit_ex(k->inner, md, NULL) ||
	    !EVP_DigestUpdate(k->inner, pad, SHA256_BLOCK))
		abort();
	for (size_t i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k0[i] ^ 0x5c;
	if (!EVP_DigestInit_ex(k->outer, md, NULL) ||
	    !EVP_DigestUpdate(k->outer, pad, SHA256_BLOCK))
		abort();
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(pad, sizeof(pad));
	EVP_MD_free(md); /* the contexts hold their own references */
	return k;
}

void gx_hmac_key_free(gx_hmac_key_t *k)
{
	if (!k)
		return;
	/* OpenSSL's SHA-256 clears its state when a context is freed. */
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	free(k);
}

void gx_hmac_key_hex(const gx_hmac_key_t *k, const void *const *parts,
		     const size_t *lens, size_t nparts, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	/* A context of the call's own: k is only read (copied from). */
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || !EVP_MD_CTX_copy_ex(c, k->inner))
		abort(); /* exhaustion */
	for (size_t i = 0; i < nparts; i++)
		EVP_DigestUpdate(c, parts[i], lens[i]);
	if (!EVP_DigestFinal_ex(c, md, &mdlen) ||
	    !EVP_MD_CTX_copy_ex(c, k->outer) ||
	    !EVP_DigestUpdate(c, md, mdlen) ||
	    !EVP_DigestFinal_ex(c, md, &mdlen) || mdlen != SHA256_LEN)
		abort();
	EVP_MD_CTX_free(c);
	gx_hex(md, SHA256_LEN, out);
}

/* For a key used once; a key used again should be a gx_hmac_key_t. */
void gx_hmac_hex(const unsigned char *key, size_t keylen,
		 const void *const *parts, const size_t *lens, size_t nparts,
		 char out[65])
{
	gx_hmac_key_t *k = gx_hmac_key_new(key, keylen);
	gx_hmac_key_hex(k, parts, lens, nparts, out);
	gx_hmac_key_free(k);
}
