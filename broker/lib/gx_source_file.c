/*
 * gx_source_file.c - what the file sources (CSV, JSON Lines) share: the
 * file's identity, the decision where to start given a position token, and
 * counting line ends between two byte offsets.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_source_impl.h"

gx_err_t gx_file_identity(const char *type, const char *path, int fd,
			  json_t **out, char *errstr, size_t errstr_size)
{
	struct stat st;
	if (fstat(fd, &st))
		return gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s", path,
				 strerror(errno));
	if (!S_ISREG(st.st_mode))
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not a regular file", path);
	unsigned char *head = gx_malloc(GX_FILE_HEAD);
	size_t n = 0;
	while (n < GX_FILE_HEAD) {
		ssize_t r = pread(fd, head + n, GX_FILE_HEAD - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(head);
			return gx_seterr(errstr, errstr_size, GX_ERR_IO,
					 "%s: %s", path, strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(head, n, md, &mdlen, EVP_sha256(), NULL);
	free(head);
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	json_t *id = json_object();
	json_object_set_new(id, "type", json_string(type));
	json_object_set_new(id, "path", json_string(path));
	json_object_set_new(id, "size", json_integer((json_int_t)st.st_size));
	json_object_set_new(id, "mtime_ns",
			    json_integer((json_int_t)st.st_mtim.tv_sec *
					     1000000000 +
					 st.st_mtim.tv_nsec));
	json_object_set_new(id, "head_sha256", json_string(hex));
	*out = id;
	return GX_OK;
}

gx_resume_t gx_file_resume(json_t *id, json_t *resume, int64_t *offset,
			   long *line)
{
	*offset = 0;
	*line = 1;
	if (!json_is_object(resume))
		return GX_RESUME_FRESH;
	json_t *rid = json_object_get(resume, "source");
	json_t *off = json_object_get(resume, "offset");
	json_t *ln = json_object_get(resume, "line");
	if (!rid || !json_equal(rid, id) || !json_is_integer(off) ||
	    !json_is_integer(ln) || json_integer_value(off) < 0 ||
	    json_integer_value(ln) < 1 ||
	    json_integer_value(off) >
		json_integer_value(json_object_get(id, "size")))
		return GX_RESUME_CHANGED;
	if (json_is_true(json_object_get(resume, "done")))
		return GX_RESUME_AGAIN;
	*offset = json_integer_value(off);
	*line = (long)json_integer_value(ln);
	return GX_RESUME_CONTINUE;
}

json_t *gx_file_position(json_t *id, int64_t offset, long line, int done)
{
	json_t *p = json_object();
	json_object_set(p, "source", id);
	json_object_set_new(p, "offset", json_integer(offset));
	json_object_set_new(p, "line", json_integer(line));
	json_object_set_new(p, "done", json_boolean(done));
	return p;
}

gx_err_t gx_file_count_lines(int fd, int64_t from, int64_t to, int lf_only,
			     long *lines, char *errstr, size_t errstr_size)
{
	enum { CHUNK = 65536 };
	unsigned char *buf = gx_malloc(CHUNK + 1);
	long count = 0;
	int64_t at = from;
	gx_err_t ret = GX_OK;
	while (at < to) {
		size_t want = (size_t)(to - at) < CHUNK ? (size_t)(to - at) : CHUNK;
		/* One byte more, to see whether a CR at the end is a CRLF. */
		ssize_t r = pread(fd, buf, want + 1, (off_t)at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = gx_seterr(errstr, errstr_size, GX_ERR_IO,
					"read error while counting lines: %s",
					r ? strerror(errno) : "file shrank");
			break;
		}
		size_t got = (size_t)r < want ? (size_t)r : want;
		for (size_t i = 0; i < got; i++) {
			if (buf[i] == '\n')
				count++;
			else if (buf[i] == '\r' && !lf_only &&
				 !(i + 1 < (size_t)r && buf[i + 1] == '\n'))
				count++;
		}
		at += (int64_t)got;
	}
	free(buf);
	*lines = count;
	return ret;
}
