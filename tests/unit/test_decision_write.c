/*
 * test_decision_write: the fast paths of the decision log, checked byte for
 * byte against the slow ones they replace.
 *  - gx_hmac_key_t (broker/lib/gx_keyfile.c) against RFC 4231 and against
 *    OpenSSL's own HMAC (EVP_MAC), and the keyed subject hash and delivery
 *    key against their secret-taking forms, also from several threads;
 *  - gx_decision_entries_text / gx_decision_write (broker/lib/gx_decision.c)
 *    against the message built in jansson and written by gx_decision_text,
 *    which replay re-dumps, including jansson's string escaping; invalid
 *    UTF-8, which jansson refuses, is refused.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_decision.h"
#include "gx_keyfile.h"
#include "gx_record.h"

/* ---- HMAC ---- */

/* OpenSSL's HMAC, as gx_hmac_hex computed it before keys were made ready. */
static void evp_hmac_hex(const unsigned char *key, size_t keylen,
			 const void *const *parts, const size_t *lens,
			 size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
	    OSSL_PARAM_construct_end()};
	cr_assert(ctx && EVP_MAC_init(ctx, key, keylen, params));
	for (size_t i = 0; i < n; i++)
		EVP_MAC_update(ctx, parts[i], lens[i]);
	EVP_MAC_final(ctx, md, &mdlen, sizeof(md));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	cr_assert_eq(mdlen, 32);
	for (size_t i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

Test(hmac_key, rfc4231_vectors)
{
	unsigned char k1[20], k6[131];
	memset(k1, 0x0b, sizeof(k1));
	memset(k6, 0xaa, sizeof(k6));
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	struct {
		const unsigned char *key;
		size_t keylen;
		const char *msg, *want;
	} v[] = {
	    {k1, sizeof(k1), "Hi There",
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    {(const unsigned char *)"Jefe", 4, "what do ya want for nothing?",
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	    /* a key longer than SHA-256's block is hashed first */
	    {k6, sizeof(k6), m6,
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(v); i++) {
		gx_hmac_key_t *k = gx_hmac_key_new(v[i].key, v[i].keylen);
		const void *parts[] = {v[i].msg};
		size_t lens[] = {strlen(v[i].msg)};
		char a[65], b[65];
		gx_hmac_key_hex(k, parts, lens, 1, a);
		gx_hmac_hex(v[i].key, v[i].keylen, parts, lens, 1, b);
		cr_expect_str_eq(a, v[i].want, "vector %zu", i);
		cr_expect_str_eq(b, v[i].want, "vector %zu", i);
		gx_hmac_key_free(k);
	}
	gx_hmac_key_free(NULL);
}

/* Every key length around the block size, parts split every way. */
Test(hmac_key, equals_openssl_hmac)
{
	unsigned char key[GX_SECRET_MAX];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 131 + 7);
	const size_t keylens[] = {0, 1, 31, 32, 63, 64, 65, 100, 128, 129,
				  GX_SECRET_MAX};
	const char *msg = "consumer\0" "11010519491231002X and then a longer "
			  "tail that crosses a block boundary of sixty-four";
	size_t msglen = 9 + strlen(msg + 9);
	for (size_t i = 0; i < GX_ARRAY_SIZE(keylens); i++) {
		gx_hmac_key_t *k = gx_hmac_key_new(key, keylens[i]);
		for (size_t cut = 0; cut <= msglen; cut += 7) {
			const void *parts[] = {msg, msg + cut, ""};
			size_t lens[] = {cut, msglen - cut, 0};
			char want[65], a[65], b[65];
			evp_hmac_hex(key, keylens[i], parts, lens, 3, want);
			gx_hmac_key_hex(k, parts, lens, 3, a);
			gx_hmac_hex(key, keylens[i], parts, lens, 3, b);
			cr_expect_str_eq(a, want, "keylen %zu cut %zu",
					 keylens[i], cut);
			cr_expect_str_eq(b, want, "keylen %zu cut %zu",
					 keylens[i], cut);
		}
		/* no parts at all */
		char want[65], a[65];
		evp_hmac_hex(key, keylens[i], NULL, NULL, 0, want);
		gx_hmac_key_hex(k, NULL, NULL, 0, a);
		cr_expect_str_eq(a, want);
		gx_hmac_key_free(k);
	}
}

static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";

Test(hmac_key, subject_and_delivery_key_equal_their_secret_forms)
{
	gx_hmac_key_t *k = gx_hmac_key_new(secret, sizeof(secret));
	const char *subjects[] = {"11010519491231002X", "", "91110000MA01ABCD2X",
				  "张三\"\\"};
	const char *consumers[] = {"tax", "", "social-security"};
	/* The subject is field 2 of a library of three. */
	gx_field_t fields[3] = {{.name = "a", .index = 0},
				{.name = "b", .index = 1},
				{.name = "id", .index = 2}};
	gx_library_t lib = {.name = "t", .fields = fields, .nfields = 3,
			    .subject = &fields[2]};
	for (size_t i = 0; i < GX_ARRAY_SIZE(subjects); i++) {
		size_t slen = strlen(subjects[i]);
		char a[GX_HASH_HEX], b[GX_HASH_HEX];
		gx_decision_subject(secret, sizeof(secret), subjects[i], slen, a);
		gx_decision_subject_k(k, subjects[i], slen, b);
		cr_expect_str_eq(a, b);
		cr_expect_eq(strlen(a), 64);
		for (size_t j = 0; j < GX_ARRAY_SIZE(consumers); j++) {
			const uint64_t rel[] = {0, 1, 3, 4, 7};
			for (size_t r = 0; r < GX_ARRAY_SIZE(rel); r++) {
				char ka[300], kb[300];
				size_t la = 0, lb = 0;
				gx_delivery_key(&lib, rel[r], consumers[j],
						subjects[i], slen, secret,
						sizeof(secret), ka, sizeof(ka),
						&la);
				gx_delivery_key_k(&lib, rel[r], consumers[j],
						  subjects[i], slen, k, kb,
						  sizeof(kb), &lb);
				cr_expect_str_eq(ka, kb);
				cr_expect_eq(la, lb);
				if (rel[r] & 4)
					cr_expect_str_eq(kb, subjects[i]);
				else
					cr_expect_eq(lb, 64);
			}
		}
	}
	/* The pseudonym is HMAC(secret, consumer NUL subject). */
	char ka[65], want[65];
	size_t la;
	const void *parts[] = {"tax", "", "11010519491231002X"};
	size_t lens[] = {3, 1, 18};
	evp_hmac_hex(secret, sizeof(secret), parts, lens, 3, want);
	gx_delivery_key_k(&lib, 3, "tax", "11010519491231002X", 18, k, ka,
			  sizeof(ka), &la);
	cr_expect_str_eq(ka, want);
	gx_hmac_key_free(k);
}

struct hmac_job {
	const gx_hmac_key_t *k;
	int bad;
};

static void *hmac_worker(void *arg)
{
	struct hmac_job *j = arg;
	for (int i = 0; i < 2000; i++) {
		char subj[32], a[GX_HASH_HEX], b[GX_HASH_HEX];
		snprintf(subj, sizeof(subj), "1101051949%08d", i % 97);
		gx_decision_subject_k(j->k, subj, strlen(subj), a);
		gx_decision_subject(secret, sizeof(secret), subj, strlen(subj),
				    b);
		if (strcmp(a, b))
			j->bad++;
	}
	return NULL;
}

/* One key shared by several threads, as the broker's workers share it. */
Test(hmac_key, one_key_many_threads)
{
	gx_hmac_key_t *k = gx_hmac_key_new(secret, sizeof(secret));
	pthread_t t[8];
	struct hmac_job jobs[8];
	for (size_t i = 0; i < GX_ARRAY_SIZE(t); i++) {
		jobs[i] = (struct hmac_job){k, 0};
		cr_assert_eq(pthread_create(&t[i], NULL, hmac_worker, &jobs[i]),
			     0);
	}
	for (size_t i = 0; i < GX_ARRAY_SIZE(t); i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(jobs[i].bad, 0, "thread %zu", i);
	}
	gx_hmac_key_free(k);
}

/* ---- the decision message writer ---- */

/* The message as the broker built it in jansson (govex-broker.c,
 * process()), written by gx_decision_text. */
static char *jansson_text(const gx_decision_head_t *h,
			  const gx_decision_entry_t *e, size_t n,
			  char hash[GX_HASH_HEX], char **decisions)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "consumer", json_string(e[i].consumer));
		json_object_set_new(o, "verdict", json_string(e[i].verdict));
		json_object_set_new(o, "reason", json_string(e[i].reason));
		json_object_set_new(o, "grant_id", json_string(e[i].grant_id));
		json_object_set_new(o, "purpose", json_string(e[i].purpose));
		json_t *rel = json_array();
		for (size_t f = 0; f < e[i].nreleased; f++)
			json_array_append_new(rel, json_string(e[i].released[f]));
		json_object_set_new(o, "released", rel);
		json_array_append_new(arr, o);
	}
	*decisions = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *m = json_object();
	json_object_set_new(m, "chain", json_string(h->chain));
	json_object_set_new(m, "seq", json_integer(h->seq));
	json_object_set_new(m, "prev", json_string(h->prev));
	json_object_set_new(m, "record_id", json_string(h->record_id));
	json_object_set_new(m, "subject", json_string(h->subject));
	json_object_set_new(m, "library", json_string(h->library));
	json_object_set_new(m, "item", json_string(h->item));
	json_object_set_new(m, "provider", json_string(h->provider));
	json_object_set_new(m, "ingest", json_string(h->ingest));
	json_object_set_new(m, "at", json_integer(h->at));
	json_object_set_new(m, "catalog_offset", json_integer(h->catalog_offset));
	json_object_set_new(m, "approvals_offset",
			    json_integer(h->approvals_offset));
	json_object_set_new(m, "decisions", arr);
	char *v = gx_decision_text(h->prev, m, hash);
	json_decref(m);
	return v;
}

/* Write h and e both ways and require the same bytes and hash; and what
 * replay computes from the stored text (parse, drop "hash", re-dump) is
 * the hash. */
static void expect_same(const gx_decision_head_t *h,
			const gx_decision_entry_t *e, size_t n)
{
	char want_hash[GX_HASH_HEX], hash[GX_HASH_HEX], replay[GX_HASH_HEX];
	char *want_dec;
	char *want = jansson_text(h, e, n, want_hash, &want_dec);
	gx_buf_t b;
	gx_buf_init(&b);
	gx_buf_append(&b, "junk", 4); /* appended to, not overwritten */
	cr_assert_eq(gx_decision_entries_text(&b, e, n), 0);
	cr_assert_eq(b.len - 4, strlen(want_dec));
	cr_expect_eq(memcmp(b.data, "junk", 4), 0);
	cr_expect_eq(memcmp(b.data + 4, want_dec, b.len - 4), 0,
		     "decisions:\n%.*s\nwant\n%s", (int)(b.len - 4),
		     b.data + 4, want_dec);
	char *got = gx_decision_write(h, b.data + 4, b.len - 4, hash);
	cr_assert_not_null(got);
	cr_expect_str_eq(got, want);
	cr_expect_str_eq(hash, want_hash);
	json_error_t jerr;
	json_t *back = json_loads(got, 0, &jerr);
	cr_assert_not_null(back, "%s: %s", jerr.text, got);
	cr_expect_str_eq(json_string_value(json_object_get(back, "hash")), hash);
	gx_decision_hash(h->prev, back, replay);
	cr_expect_str_eq(replay, hash);
	json_decref(back);
	free(got);
	free(want);
	free(want_dec);
	gx_buf_free(&b);
}

static const gx_decision_head_t plain_head = {
    .chain = "population/0",
    .prev = GX_CHAIN_GENESIS,
    .record_id = "7f1c2a9e-0b7d-4a6e-9c1e-2f0a3b4c5d6e",
    .subject = "5d41402abc4b2a76b9719d911017c592e2f4b8c1a9e0f7d6c5b4a39281706f5e",
    .library = "population",
    .item = "POP-0001",
    .provider = "public-security",
    .ingest = "govex.ingest.population/0/41",
    .seq = 42,
    .at = INT64_C(1704164645678),
    .catalog_offset = 17,
    .approvals_offset = 230,
};

static const char *const two_fields[] = {"name", "birth_date"};

Test(decision_write, as_the_broker_writes_it)
{
	gx_decision_entry_t e[] = {
	    {"tax", "released", "granted", "G-1", "levy", two_fields, 2},
	    {"health", "partly_released", "granted_partial", "G-2",
	     "vaccination", two_fields, 1},
	    {"police", "withheld", "grant_expired", "G-3", "", NULL, 0},
	    {"stats", "denied", "no_field_allowed", "G-4", "census", NULL, 0},
	};
	for (size_t n = 0; n <= GX_ARRAY_SIZE(e); n++)
		expect_same(&plain_head, e, n);
}

Test(decision_write, integers)
{
	const int64_t v[] = {0, 1, -1, 9, 10, -10, 999, 1000, INT32_MAX,
			     (int64_t)INT32_MAX + 1, INT32_MIN,
			     INT64_C(1704164645678), -INT64_C(1704164645678),
			     INT64_MAX, INT64_MAX - 1, INT64_MIN,
			     INT64_MIN + 1};
	gx_decision_entry_t e = {"c", "released", "granted", "g", "p",
				 two_fields, 2};
	for (size_t i = 0; i < GX_ARRAY_SIZE(v); i++) {
		gx_decision_head_t h = plain_head;
		h.seq = v[i];
		h.at = v[(i + 1) % GX_ARRAY_SIZE(v)];
		h.catalog_offset = v[(i + 2) % GX_ARRAY_SIZE(v)];
		h.approvals_offset = v[(i + 3) % GX_ARRAY_SIZE(v)];
		expect_same(&h, &e, 1);
	}
}

/* Strings jansson escapes, and ones it leaves alone. */
static const char *const odd[] = {
    "",
    "\"",
    "\\",
    "\"\\\"\\\\",
    "/",
    "</script>",
    "\x7f",
    "a\x7f" "b",
    "中文字符",
    "张三 (Zhāng Sān)",
    "\xf0\x9f\x98\x80",		/* U+1F600, 4 bytes */
    "\xf4\x8f\xbf\xbf",		/* U+10FFFF, the last */
    "\xef\xbf\xbf",		/* U+FFFF */
    "\xc2\x80",			/* U+0080, the first of 2 bytes */
    "\xe0\xa0\x80",		/* U+0800, the first of 3 */
    "\xf0\x90\x80\x80",		/* U+10000, the first of 4 */
    "\xed\x9f\xbf",		/* U+D7FF, below the surrogates */
    "\xee\x80\x80",		/* U+E000, above them */
    "\xe2\x80\xa8\xe2\x80\xa9",	/* U+2028, U+2029 */
    ",\"ingest\":\"x",		/* mimics the member "hash" precedes */
    ",\"hash\":\"y\"}",
    "a\tb\nc\rd\be\ff",
    "\\u0041",
};

Test(decision_write, every_control_character_and_odd_strings)
{
	char ctl[32], one[2] = {0, 0};
	for (int c = 1; c < 32; c++)
		ctl[c - 1] = (char)c;
	ctl[31] = '\0';
	gx_decision_head_t h = plain_head;
	h.chain = ctl;
	gx_decision_entry_t e = {ctl, ctl, ctl, ctl, ctl, odd,
				 GX_ARRAY_SIZE(odd)};
	expect_same(&h, &e, 1);
	/* each control character alone, in every string of the message */
	for (int c = 1; c < 0x80; c++) {
		one[0] = (char)c;
		gx_decision_head_t h1 = {one, one, one, one, one, one, one, one,
					 c, -c, c * 1000, c};
		const char *rel[] = {one, "x", one};
		gx_decision_entry_t e1 = {one, one, one, one, one, rel, 3};
		expect_same(&h1, &e1, 1);
	}
	/* each odd string in every place */
	for (size_t i = 0; i < GX_ARRAY_SIZE(odd); i++) {
		const char *s = odd[i];
		gx_decision_head_t h2 = {s, s, s, s, s, s, s, s, 1, 2, 3, 4};
		const char *rel[] = {s};
		gx_decision_entry_t e2[] = {{s, s, s, s, s, rel, 1},
					    {"c", "v", "r", "g", s, odd, i}};
		expect_same(&h2, e2, 2);
	}
}

/* Random messages from pieces of every kind (xorshift: reproducible). */
Test(decision_write, random_messages)
{
	static const char *const piece[] = {
	    "a", "Z", " ", "0", "\"", "\\", "/", "\x01", "\x1f", "\n", "\t",
	    "\x7f", "~", "中", "\xf0\x9f\x98\x80", "\xc2\xa9", "\xe2\x80\xa8",
	    "{", "}", "[", "]", ":", ",", "'", "\\u", "%s", "%n"};
	uint64_t x = 0x9e3779b97f4a7c15u;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	char pool[16][64];
	for (int iter = 0; iter < 500; iter++) {
		for (size_t s = 0; s < 16; s++) {
			size_t len = 0, k = RND() % 8;
			pool[s][0] = '\0';
			for (size_t j = 0; j < k; j++) {
				const char *p = piece[RND() % GX_ARRAY_SIZE(piece)];
				if (len + strlen(p) >= sizeof(pool[s]))
					break;
				strcpy(pool[s] + len, p);
				len += strlen(p);
			}
		}
#define S() ((const char *)pool[RND() % 16])
		gx_decision_head_t h = {S(), S(), S(), S(), S(), S(), S(), S(),
					(int64_t)RND(), (int64_t)RND(),
					(int64_t)(RND() % 100000),
					-(int64_t)(RND() % 100)};
		const char *rel[4][6];
		gx_decision_entry_t e[4];
		size_t n = RND() % 5;
		for (size_t i = 0; i < n; i++) {
			size_t nr = RND() % 7;
			for (size_t f = 0; f < nr; f++)
				rel[i][f] = S();
			e[i] = (gx_decision_entry_t){S(), S(), S(), S(), S(),
						     rel[i], nr};
		}
#undef S
		expect_same(&h, e, n);
	}
#undef RND
}

/* Not UTF-8, or not what jansson accepts as UTF-8. */
static const char *const bad_utf8[] = {
    "\xff",
    "\xfe",
    "\x80",			/* a lone continuation byte */
    "a\xbf" "b",
    "\xe4\xb8",			/* 中 cut short */
    "\xe4\xb8" "a",
    "\xf0\x9f\x98",		/* 4 bytes cut short */
    "\xc0\xaf",			/* overlong '/' */
    "\xc1\xbf",
    "\xe0\x80\xaf",		/* overlong, 3 bytes */
    "\xe0\x9f\xbf",
    "\xf0\x80\x80\xaf",		/* overlong, 4 bytes */
    "\xf0\x8f\xbf\xbf",
    "\xed\xa0\x80",		/* U+D800, a surrogate */
    "\xed\xbf\xbf",		/* U+DFFF */
    "\xf4\x90\x80\x80",		/* U+110000 */
    "\xf5\x80\x80\x80",
    "\xf8\x88\x80\x80\x80",	/* 5-byte form */
    "ok\xc3",			/* cut at the end */
};

Test(decision_write, invalid_utf8_is_refused)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad_utf8); i++) {
		const char *s = bad_utf8[i];
		json_t *j = json_string(s);
		cr_expect_null(j, "jansson accepts bad string %zu", i);
		json_decref(j);
		const char *rel[] = {"ok", s};
		gx_decision_entry_t good = {"c", "v", "r", "g", "p", rel, 1};
		gx_decision_entry_t e[][2] = {
		    {good, {s, "v", "r", "g", "p", NULL, 0}},
		    {good, {"c", s, "r", "g", "p", NULL, 0}},
		    {good, {"c", "v", s, "g", "p", NULL, 0}},
		    {good, {"c", "v", "r", s, "p", NULL, 0}},
		    {good, {"c", "v", "r", "g", s, NULL, 0}},
		    {good, {"c", "v", "r", "g", "p", rel, 2}},
		};
		gx_buf_t b;
		gx_buf_init(&b);
		gx_buf_append(&b, "kept", 4);
		for (size_t k = 0; k < GX_ARRAY_SIZE(e); k++) {
			cr_expect_eq(gx_decision_entries_text(&b, e[k], 2), -1,
				     "string %zu in member %zu", i, k);
			cr_expect_eq(b.len, 4);
		}
		cr_expect_eq(memcmp(b.data, "kept", 4), 0);
		char hash[GX_HASH_HEX];
		for (size_t k = 0; k < 8; k++) {
			gx_decision_head_t h = plain_head;
			const char **m[] = {&h.chain, &h.prev, &h.record_id,
					    &h.subject, &h.library, &h.item,
					    &h.provider, &h.ingest};
			*m[k] = s;
			cr_expect_null(gx_decision_write(&h, "[]", 2, hash),
				       "string %zu in member %zu", i, k);
		}
		gx_buf_free(&b);
	}
	/* NULL, where jansson would leave the member out */
	gx_decision_entry_t e = {"c", "v", NULL, "g", "p", NULL, 0};
	gx_buf_t b;
	gx_buf_init(&b);
	cr_expect_eq(gx_decision_entries_text(&b, &e, 1), -1);
	cr_expect_eq(b.len, 0);
	gx_buf_free(&b);
	gx_decision_head_t h = plain_head;
	char hash[GX_HASH_HEX];
	h.item = NULL;
	cr_expect_null(gx_decision_write(&h, "[]", 2, hash));
}

/* The writer accepts a string exactly when jansson does, and writes it as
 * jansson does: every one- and two-byte string, and three- and four-byte
 * ones over all lead and second bytes. */
Test(decision_write, accepts_and_escapes_as_jansson_does)
{
	static const char pre[] = "[{\"consumer\":\"c\",\"grant_id\":\"g\","
				  "\"purpose\":\"p\",\"reason\":\"r\","
				  "\"released\":[],\"verdict\":";
	const size_t npre = sizeof(pre) - 1;
	const unsigned char tails[] = {0x00, 0x01, 0x41, 0x7f, 0x80, 0x8f,
				       0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
	gx_buf_t b;
	gx_buf_init(&b);
	size_t tried = 0;
	for (unsigned a = 1; a < 256; a++) {
		for (unsigned c = 0; c < 256; c++) {
			for (size_t t = 0; t < sizeof(tails); t++) {
				for (size_t u = 0; u < sizeof(tails); u++) {
					/* after a NUL, nothing is read */
					if ((!c && (t || u)) || (!tails[t] && u))
						continue;
					unsigned char s[5] = {
					    (unsigned char)a, (unsigned char)c,
					    tails[t], tails[u], 0};
					const char *str = (const char *)s;
					json_t *j = json_string(str);
					gx_decision_entry_t e = {"c", str, "r",
								 "g", "p",
								 NULL, 0};
					b.len = 0;
					int r = gx_decision_entries_text(&b, &e,
									 1);
					tried++;
					if (r != (j ? 0 : -1))
						cr_assert_fail("%02x %02x %02x "
							       "%02x: jansson "
							       "%s it",
							       a, c, tails[t],
							       tails[u],
							       j ? "accepts"
								 : "refuses");
					if (!j)
						continue;
					char *d = json_dumps(j, JSON_COMPACT |
								    JSON_ENCODE_ANY);
					size_t dl = strlen(d);
					if (b.len != npre + dl + 2 ||
					    memcmp(b.data, pre, npre) ||
					    memcmp(b.data + npre, d, dl) ||
					    memcmp(b.data + npre + dl, "}]", 2))
						cr_assert_fail("%02x %02x %02x "
							       "%02x: %.*s is "
							       "not %s",
							       a, c, tails[t],
							       tails[u],
							       (int)b.len,
							       b.data, d);
					free(d);
					json_decref(j);
				}
			}
		}
	}
	cr_expect_gt(tried, 1000000);
	gx_buf_free(&b);
}
