/*
 * itest.c - integration test helpers (see itest.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gx_validate.h"
#include "itest.h"

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		cr_assert_fail("%s is not set: run the suite with `make test`", name);
	return v;
}

const char *it_brokers(void) { return env_or_die("GOVEX_TEST_BROKERS"); }
const char *it_bin(void) { return env_or_die("GOVEX_TEST_BIN"); }
const char *it_tmp(void) { return env_or_die("GOVEX_TEST_TMP"); }

char *it_path(const char *name)
{
	static char bufs[8][512];
	static int k;
	char *b = bufs[k++ % 8];
	snprintf(b, 512, "%s/%s", it_tmp(), name);
	return b;
}

static char **build_argv(const char *prefix, const char *prog,
			 const char *const *args, char *progpath, size_t pp,
			 char *prefset, size_t ps)
{
	size_t n = 0;
	while (args && args[n])
		n++;
	char **argv = calloc(n + 7, sizeof(char *));
	snprintf(progpath, pp, "%s/%s", it_bin(), prog);
	snprintf(prefset, ps, "topic.prefix=%s", prefix);
	size_t k = 0;
	argv[k++] = progpath;
	argv[k++] = "-b";
	argv[k++] = (char *)it_brokers();
	argv[k++] = "-o";
	argv[k++] = prefset;
	for (size_t i = 0; i < n; i++)
		argv[k++] = (char *)args[i];
	argv[k] = NULL;
	return argv;
}

static void child_stderr(const char *prefix, const char *prog)
{
	char log[512];
	snprintf(log, sizeof(log), "%s/%s.%s.log", it_tmp(), prefix, prog);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

static char *file_tail(const char *path, long from)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	long n = ftell(f) - from;
	if (n < 0)
		n = 0;
	char *s = malloc((size_t)n + 1);
	fseek(f, from, SEEK_SET);
	n = (long)fread(s, 1, (size_t)n, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

itest_out_t it_run(const char *prefix, const char *prog, const char *const *args)
{
	char pp[512], ps[256], log[512];
	snprintf(log, sizeof(log), "%s/%s.%s.log", it_tmp(), prefix, prog);
	long before = file_size(log);
	char **argv = build_argv(prefix, prog, args, pp, sizeof(pp), ps, sizeof(ps));
	int fds[2];
	cr_assert(pipe(fds) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		child_stderr(prefix, prog);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	itest_out_t o = {NULL, 0, NULL, 0};
	size_t cap = 0;
	for (;;) {
		if (o.len + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			o.out = realloc(o.out, cap);
		}
		ssize_t r = read(fds[0], o.out + o.len, cap - o.len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		o.len += (size_t)r;
	}
	o.out[o.len] = '\0';
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	o.err = file_tail(log, before);
	free(argv);
	return o;
}

void it_out_free(itest_out_t *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}

pid_t it_spawn(const char *prefix, const char *prog, const char *const *args)
{
	char pp[512], ps[256];
	char **argv = build_argv(prefix, prog, args, pp, sizeof(pp), ps, sizeof(ps));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		child_stderr(prefix, prog);
		execv(argv[0], argv);
		_exit(127);
	}
	free(argv);
	return pid;
}

int it_stop(pid_t pid)
{
	int st;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 128 + SIGKILL;
}

void it_write(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f, "cannot write %s", path);
	cr_assert(fwrite(data, 1, len, f) == len);
	fclose(f);
}

json_t *it_json_lines(const char *text, size_t len)
{
	json_t *a = json_array();
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n) {
			json_error_t e;
			json_t *j = json_loadb(p, n, 0, &e);
			cr_assert(j, "not a JSON line: %.*s (%s)", (int)n, p, e.text);
			json_array_append_new(a, j);
		}
		p += n + 1;
	}
	return a;
}

void it_citizen_id(unsigned i, char out[19])
{
	/* 140105 (太原市小店区), a birth date spread over 1950..2009, order code. */
	unsigned y = 1950 + i % 60, m = 1 + (i / 60) % 12, d = 1 + (i / 720) % 28;
	snprintf(out, 19, "140105%04u%02u%02u%03u", y, m, d, i % 1000);
	out[18] = '\0';
	out[17] = gx_gb11643_check_char(out);
}

void it_setup(const char *prefix, const char *catalog_json)
{
	const char *setup[] = {"setup", NULL};
	itest_out_t o = it_run(prefix, "govexctl", setup);
	cr_assert_eq(o.status, 0, "govexctl setup failed (%d); see %s/%s.govexctl.log",
		     o.status, it_tmp(), prefix);
	it_out_free(&o);
	char *cat = it_path("catalog.json");
	char path[512];
	snprintf(path, sizeof(path), "%s-%s", cat, prefix);
	it_write(path, catalog_json, strlen(catalog_json));
	const char *imp[] = {"catalog", "import", path, NULL};
	o = it_run(prefix, "govexctl", imp);
	cr_assert_eq(o.status, 0, "catalog import failed (%d); see %s/%s.govexctl.log",
		     o.status, it_tmp(), prefix);
	it_out_free(&o);
}

pid_t it_broker(const char *prefix)
{
	static char group[128], txn[128], secret[600];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.secret", it_tmp(), prefix);
	if (access(path, F_OK)) {
		const char *args[] = {"secret", "new", path, NULL};
		itest_out_t o = it_run(prefix, "govexctl", args);
		cr_assert_eq(o.status, 0, "govexctl secret new failed");
		it_out_free(&o);
	}
	snprintf(group, sizeof(group), "broker.group=%s-broker", prefix);
	snprintf(txn, sizeof(txn), "broker.transactional.id=%s-broker-1", prefix);
	snprintf(secret, sizeof(secret), "broker.subject.secret.file=%s", path);
	const char *args[] = {"-o", group, "-o", txn, "-o", secret, NULL};
	return it_spawn(prefix, "govex-broker", args);
}
