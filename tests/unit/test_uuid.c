/*
 * test_uuid.c - gx_uuid (gx_kafka.c): every ingest record, approval and
 * seal batch is named by one, so they must be well-formed version 4 UUIDs
 * and never repeat, across threads and across a fork.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "gx.h"
#include "gx_kafka.h"

#define PER_THREAD 20000

static int cmp_uuid(const void *a, const void *b)
{
	return memcmp(a, b, 37);
}

/* 8-4-4-4-12 lower-case hex, version 4, variant 10xx. */
static void check_form(const char *u)
{
	cr_assert_eq(strlen(u), 36, "%s", u);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			cr_assert_eq(u[i], '-', "%s", u);
		else
			cr_assert(strchr("0123456789abcdef", u[i]), "%s", u);
	}
	cr_assert_eq(u[14], '4', "not version 4: %s", u);
	cr_assert(strchr("89ab", u[19]), "not the RFC 4122 variant: %s", u);
	uuid_t parsed;
	cr_assert_eq(uuid_parse(u, parsed), 0, "libuuid cannot parse %s", u);
	cr_assert_eq(uuid_type(parsed), UUID_TYPE_DCE_RANDOM, "%s", u);
}

static void *draw(void *arg)
{
	char (*out)[37] = arg;
	for (int i = 0; i < PER_THREAD; i++)
		gx_uuid(out[i]);
	return NULL;
}

Test(uuid, well_formed_and_unique_across_threads)
{
	enum { T = 4 };
	char (*all)[37] = calloc((size_t)T * PER_THREAD, 37);
	pthread_t th[T];
	for (int t = 0; t < T; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, draw, all + t * PER_THREAD), 0);
	for (int t = 0; t < T; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < T * PER_THREAD; i++)
		check_form(all[i]);
	qsort(all, (size_t)T * PER_THREAD, 37, cmp_uuid);
	for (int i = 1; i < T * PER_THREAD; i++)
		cr_assert_neq(memcmp(all[i - 1], all[i], 37), 0, "%s twice", all[i]);
	/* Every random bit is used: each hex digit outside the fixed ones
	 * takes many values over 80,000 draws. */
	for (int pos = 0; pos < 36; pos++) {
		if (pos == 8 || pos == 13 || pos == 14 || pos == 18 || pos == 23)
			continue;
		int seen[16] = {0}, kinds = 0;
		for (int i = 0; i < T * PER_THREAD; i++) {
			char c = all[i][pos];
			int v = c <= '9' ? c - '0' : c - 'a' + 10;
			kinds += !seen[v]++;
		}
		cr_assert_geq(kinds, pos == 19 ? 4 : 16, "position %d takes %d values", pos,
			      kinds);
	}
	free(all);
}

/* A child forked after the parent drew from its pool does not repeat
 * what the parent draws next. */
Test(uuid, a_forked_child_draws_its_own)
{
	char first[37], parent[37], child[37] = "";
	gx_uuid(first);
	int fd[2];
	cr_assert_eq(pipe(fd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char u[37];
		gx_uuid(u);
		ssize_t w = write(fd[1], u, 37);
		_exit(w == 37 ? 0 : 1);
	}
	close(fd[1]);
	gx_uuid(parent);
	cr_assert_eq(read(fd[0], child, 37), 37);
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check_form(child);
	cr_assert_neq(strcmp(parent, child), 0, "parent and child drew %s", child);
	cr_assert_neq(strcmp(first, child), 0);
}
