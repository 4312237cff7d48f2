/*
 * test_decision: the decision chain's hash, chain heads in offset metadata,
 * subject hashes and Ed25519 checkpoints (broker/lib/gx_decision.c).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_decision.h"

Test(decision, hash_is_canonical_and_covers_every_field)
{
	json_t *a = json_loads("{\"seq\":1,\"chain\":\"population/0\",\"decisions\":[]}", 0, NULL);
	json_t *b = json_loads("{\"chain\":\"population/0\",\"decisions\":[],\"seq\":1,"
			       "\"hash\":\"ignored\"}", 0, NULL);
	char ha[GX_HASH_HEX], hb[GX_HASH_HEX], hc[GX_HASH_HEX], hd[GX_HASH_HEX];
	gx_decision_hash(GX_CHAIN_GENESIS, a, ha);
	gx_decision_hash(GX_CHAIN_GENESIS, b, hb);
	cr_expect_str_eq(ha, hb, "key order and the hash field itself must not matter");
	json_object_set_new(a, "seq", json_integer(2));
	gx_decision_hash(GX_CHAIN_GENESIS, a, hc);
	cr_expect_str_neq(ha, hc, "a changed field must change the hash");
	gx_decision_hash(hb, b, hd);
	cr_expect_str_neq(hb, hd, "the previous hash is part of the hash");
	cr_expect_eq(strlen(ha), 64);
	json_decref(a);
	json_decref(b);
}

/* What the broker writes (one dump, the hash spliced in) is exactly the
 * message with its hash dumped canonically, and replay's hash agrees. */
Test(decision, written_text_equals_the_canonical_dump_with_its_hash)
{
	const char *msgs[] = {
	    /* as the broker makes them, with a purpose that mimics a key */
	    "{\"chain\":\"population/0\",\"seq\":3,\"prev\":\"ab\","
	    "\"record_id\":\"r\",\"subject\":\"s\",\"library\":\"population\","
	    "\"item\":\"I\",\"provider\":\"P\",\"ingest\":\"t/0/5\",\"at\":1,"
	    "\"catalog_offset\":2,\"approvals_offset\":3,\"decisions\":[{"
	    "\"consumer\":\"C\",\"purpose\":\",\\\"ingest\\\":\\\"x\","
	    "\"released\":[\"name\"]}]}",
	    /* no "ingest" member at all */
	    "{\"chain\":\"c\",\"seq\":1,\"decisions\":[]}",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		json_error_t jerr;
		json_t *m = json_loads(msgs[i], 0, &jerr);
		cr_assert_not_null(m, "%s", jerr.text);
		char h1[GX_HASH_HEX], h2[GX_HASH_HEX];
		gx_decision_hash("prev", m, h1);
		char *text = gx_decision_text("prev", m, h2);
		cr_expect_str_eq(h1, h2);
		json_t *back = json_loads(text, 0, &jerr);
		cr_assert_not_null(back, "not JSON: %s", text);
		json_object_set_new(m, "hash", json_string(h1));
		char *want = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
		cr_expect_str_eq(text, want);
		free(want);
		free(text);
		json_decref(back);
		json_decref(m);
	}
}

Test(decision, chain_head_metadata_round_trip)
{
	char h[GX_HASH_HEX];
	int64_t seq;
	const char *ok = "42 " GX_CHAIN_GENESIS;
	cr_assert_eq(gx_chain_head_parse(ok, strlen(ok), &seq, h), GX_OK);
	cr_expect_eq(seq, 42);
	cr_expect_str_eq(h, GX_CHAIN_GENESIS);
	const char *bad[] = {"", "42", "x " GX_CHAIN_GENESIS, "-1 " GX_CHAIN_GENESIS,
			     "42 00", "42 ZZ00000000000000000000000000000000000000000000000000000000000000"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++)
		cr_expect_neq(gx_chain_head_parse(bad[i], strlen(bad[i]), &seq, h), GX_OK,
			      "accepted '%s'", bad[i]);
	cr_expect_neq(gx_chain_head_parse(NULL, 0, &seq, h), GX_OK);
}

Test(decision, subject_hash_is_keyed)
{
	unsigned char k1[32] = {1}, k2[32] = {2};
	char a[GX_HASH_HEX], b[GX_HASH_HEX], c[GX_HASH_HEX];
	gx_decision_subject(k1, 32, "11010519491231002X", 18, a);
	gx_decision_subject(k1, 32, "11010519491231002X", 18, b);
	gx_decision_subject(k2, 32, "11010519491231002X", 18, c);
	cr_expect_str_eq(a, b);
	cr_expect_str_neq(a, c, "another secret gives another hash");
	cr_expect(!strstr(a, "11010519491231002X"));
}

static void checkpoints_in(const char *suite);

Test(decision, checkpoints_verify_only_with_the_right_key_and_content)
{
	checkpoints_in(NULL); /* Ed25519, as before suites */
	checkpoints_in("ed25519-sha256");
	checkpoints_in("sm2-sm3");
}

static void checkpoints_in(const char *suite)
{
	char dir[] = "/tmp/gx-dec-XXXXXX", key[128], pub[140], other[128], opub[140];
	cr_assert(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/k", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	snprintf(other, sizeof(other), "%s/o", dir);
	snprintf(opub, sizeof(opub), "%s/o.pub", dir);
	char err[256];
	cr_assert_eq(gx_signer_create(key, suite, err, sizeof(err)), GX_OK, "%s", err);
	cr_assert_eq(gx_signer_create(other, suite, err, sizeof(err)), GX_OK, "%s", err);
	cr_expect_neq(gx_signer_create(key, suite, err, sizeof(err)), GX_OK, "must not overwrite");
	struct stat st;
	cr_assert_eq(stat(key, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "private key mode %o", st.st_mode & 0777);

	gx_signer_t *s;
	gx_verifier_t *v, *vo;
	cr_assert_eq(gx_signer_load(key, NULL, &s, err, sizeof(err)), GX_OK, "%s", err);
	cr_assert_eq(gx_verifier_load(pub, NULL, &v, err, sizeof(err)), GX_OK, "%s", err);
	cr_assert_eq(gx_verifier_load(opub, NULL, &vo, err, sizeof(err)), GX_OK, "%s", err);
	json_t *cp = gx_checkpoint_new(s, "population/0", 7, GX_CHAIN_GENESIS, 1700000000000);
	cr_expect_str_eq(json_string_value(json_object_get(cp, "alg")),
			 suite ? suite : "ed25519-sha256");
	cr_expect_eq(gx_checkpoint_verify(v, cp, err, sizeof(err)), GX_OK, "%s", err);
	if (suite && !strcmp(suite, "sm2-sm3")) {
		/* another distinguishing ID is another signer */
		gx_verifier_t *vid;
		cr_assert_eq(gx_verifier_load(pub, "another-id", &vid, err,
					      sizeof(err)), GX_OK, "%s", err);
		cr_expect_neq(gx_checkpoint_verify(vid, cp, err, sizeof(err)), GX_OK);
		gx_verifier_destroy(vid);
	}
	cr_expect_neq(gx_checkpoint_verify(vo, cp, err, sizeof(err)), GX_OK);
	json_object_set_new(cp, "seq", json_integer(8));
	cr_expect_neq(gx_checkpoint_verify(v, cp, err, sizeof(err)), GX_OK,
		      "an altered sequence number must not verify");
	json_decref(cp);

	/* A private key others can read is refused. */
	chmod(key, 0644);
	gx_signer_t *s2 = NULL;
	cr_expect_neq(gx_signer_load(key, NULL, &s2, err, sizeof(err)), GX_OK);
	cr_expect(strstr(err, "chmod 600"), "%s", err);
	gx_signer_destroy(s2);
	gx_signer_destroy(s);
	gx_verifier_destroy(v);
	gx_verifier_destroy(vo);
	unlink(key);
	unlink(pub);
	unlink(other);
	unlink(opub);
	rmdir(dir);
}
