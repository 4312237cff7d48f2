/*
 * gx_keyfile.c - secret files and keyed hashes (OpenSSL 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_keyfile.h"

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

void gx_hmac_hex(const unsigned char *key, size_t keylen,
		 const void *const *parts, const size_t *lens, size_t nparts,
		 char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
	    OSSL_PARAM_construct_end()};
	if (!ctx || !EVP_MAC_init(ctx, key, keylen, params))
		abort(); /* OpenSSL without HMAC-SHA-256 cannot run govex */
	for (size_t i = 0; i < nparts; i++)
		EVP_MAC_update(ctx, parts[i], lens[i]);
	EVP_MAC_final(ctx, md, &mdlen, sizeof(md));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	for (size_t i = 0; i < 32 && i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}
