/*
 * gx_decision.h - the decision log (art. 20-23): for every ingest record,
 * what the broker decided for each consumer holding a grant on its item,
 * hash-chained per ingest partition so that compliance staff can prove
 * nothing was removed, reordered or altered afterwards.
 *
 * One message on <prefix>.decisions per ingest record, key = record id,
 * value = JSON:
 *   {"chain":"population/0","seq":42,"prev":"<64 hex>",
 *    "record_id":R,"subject":"<64 hex>","library":L,"item":I,"provider":P,
 *    "ingest":"<topic>/<partition>/<offset>","at":MS,
 *    "catalog_offset":N,"approvals_offset":N,
 *    "decisions":[{"consumer":C,"verdict":"released|partly_released|
 *       withheld|denied","reason":CODE,"grant_id":G,"purpose":T,
 *       "released":[fields]}],
 *    "hash":"<64 hex>"}
 * hash = SHA-256(prev ‖ canonical JSON of the message without "hash"),
 * canonical = jansson compact output with sorted keys. The chain's head
 * (seq and hash) is committed with the consumed offsets of its ingest
 * partition, in the same transaction as the decisions, so it survives
 * crashes and rebalances exactly.
 *
 * A checkpoint message (key "checkpoint/<chain>") signs a chain head with
 * the exchange's Ed25519 key:
 *   {"checkpoint":"population/0","seq":42,"head":"<hash>","at":MS,
 *    "key_id":"<hex of SHA-256 of the public key, first 16>",
 *    "sig":"<base64 signature over chain NUL seq NUL head NUL at>"}
 */
#ifndef GX_DECISION_H
#define GX_DECISION_H

#include <jansson.h>
#include <stdint.h>

#include "gx.h"
#include "gx_keyfile.h"

#define GX_HASH_HEX 65
#define GX_CHAIN_GENESIS                                                      \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* SHA-256 of prev (hex) and the canonical form of msg without "hash";
 * out is 64 hex characters and a NUL. */
void gx_decision_hash(const char *prev, json_t *msg, char out[GX_HASH_HEX]);
/* The same over the canonical form already made (json_dumps with
 * JSON_COMPACT | JSON_SORT_KEYS of the message without "hash"). */
void gx_decision_hash_canon(const char *prev, const char *canon, size_t len,
			    char out[GX_HASH_HEX]);
/*
 * The message as written: msg (which has no "hash" yet) with its hash
 * chained to prev, as JSON_COMPACT | JSON_SORT_KEYS text (a malloc'd string;
 * the hash also in out). Equal to setting "hash" and dumping, with one dump
 * instead of three.
 */
char *gx_decision_text(const char *prev, json_t *msg, char out[GX_HASH_HEX]);

/* ---- writing decision messages without building them in jansson ----
 * The text is byte for byte what jansson makes of the same message with
 * JSON_COMPACT | JSON_SORT_KEYS (and so what replay recomputes): keys in
 * strcmp order, integers in decimal, strings escaped as jansson 2.14 does:
 * '"' and '\\' by a backslash, \b \f \n \r \t short, the other control
 * characters as \u00XX with upper-case hex digits, and everything else
 * (DEL, '/', UTF-8 beyond ASCII) as it is. A string that is not valid
 * UTF-8 (or is NULL) is refused, where jansson's json_string would return
 * NULL and the member would silently go missing. */

/* One consumer's decision: the members of an element of "decisions". */
typedef struct gx_decision_entry {
	const char *consumer, *verdict, *reason, *grant_id, *purpose;
	const char *const *released;	/* field names, in order */
	size_t nreleased;
} gx_decision_entry_t;

/* Append the canonical text of the "decisions" array ("[{...},...]") to
 * out. Returns 0, or -1 (out unchanged in length) when a string is NULL or
 * not valid UTF-8 (a C string holds no NUL). Thread-safe. */
int gx_decision_entries_text(gx_buf_t *out, const gx_decision_entry_t *e,
			     size_t n);

/* The members of a decision message other than "decisions" and "hash". */
typedef struct gx_decision_head {
	const char *chain, *prev, *record_id, *subject, *library, *item,
	    *provider, *ingest;
	int64_t seq, at, catalog_offset, approvals_offset;
} gx_decision_head_t;

/*
 * The whole decision message as written (malloc'd, NUL-terminated, with
 * "hash" chained to h->prev), its hash in out: what gx_decision_text makes
 * of the same message. entries is the text from gx_decision_entries_text.
 * NULL when a string of h is NULL or not valid UTF-8. Thread-safe.
 */
char *gx_decision_write(const gx_decision_head_t *h, const char *entries,
			size_t entries_len, char out[GX_HASH_HEX]);

/* Parse "SEQ HASH" (committed offset metadata) into a chain head. */
gx_err_t gx_chain_head_parse(const char *s, size_t len, int64_t *seq,
			     char hash[GX_HASH_HEX]);

/* Keyed hash of a record's subject (citizen ID, credit code...), the same
 * for every consumer, so `govexctl subject` can find it and nobody without
 * the exchange's secret can. */
void gx_decision_subject(const unsigned char *secret, size_t secretlen,
		     const char *subject, size_t len, char out[GX_HASH_HEX]);
/* The same with the secret made ready once (gx_hmac_key_new); thread-safe. */
void gx_decision_subject_k(const gx_hmac_key_t *k, const char *subject,
			   size_t len, char out[GX_HASH_HEX]);

/* ---- checkpoints: the exchange's signature over a chain head ----
 * In the exchange's suite (seal.suite): Ed25519, or SM2 with SM3 and the
 * distinguishing ID sm2_id (NULL: GB/T 35276's default); the key's type
 * decides, and the checkpoint names it in "alg". */
typedef struct gx_signer gx_signer_t;

/* Load an Ed25519 or SM2 private key (PEM, mode 0600 enforced). */
gx_err_t gx_signer_load(const char *path, const char *sm2_id,
			gx_signer_t **out, char *errstr, size_t errstr_size);
void gx_signer_destroy(gx_signer_t *s);
/* Create a new key of suite ("ed25519-sha256" or "sm2-sm3"; NULL:
 * Ed25519): private PEM at path (0600, must not exist), public PEM at
 * path.pub. */
gx_err_t gx_signer_create(const char *path, const char *suite, char *errstr,
			  size_t errstr_size);
/* The checkpoint message for a chain head. */
json_t *gx_checkpoint_new(gx_signer_t *s, const char *chain, int64_t seq,
			  const char *head, int64_t at_ms);
/* Verify a checkpoint with the public key PEM at pubpath (loaded once by
 * the caller via gx_verifier_load). */
typedef struct gx_verifier gx_verifier_t;
gx_err_t gx_verifier_load(const char *pubpath, const char *sm2_id,
			  gx_verifier_t **out, char *errstr,
			  size_t errstr_size);
void gx_verifier_destroy(gx_verifier_t *v);
gx_err_t gx_checkpoint_verify(gx_verifier_t *v, json_t *cp, char *errstr,
			      size_t errstr_size);

#endif /* GX_DECISION_H */
