/*
 * ctl_audit.c - govexctl's compliance commands over the decision log:
 * replay (chains, checkpoints, every decision recomputed), why (one
 * decision and the events behind it), subject (who received data about one
 * citizen or company), what-if (the releases a proposed change would alter).
 */
#include <stdlib.h>
#include <string.h>

#include "govexctl.h"
#include "gx_decision.h"
#include "gx_keyfile.h"
#include "gx_replay.h"

/* ================= replay, why ================= */

struct replay_feed {
	gx_replay_t *r;
	int kind; /* 0 catalog, 1 approvals, 2 decisions */
};

static int on_replay_msg(void *opaque, const rd_kafka_message_t *m)
{
	struct replay_feed *f = opaque;
	if (f->kind == 0)
		gx_replay_add_catalog(f->r, m->offset, m->payload, m->len);
	else if (f->kind == 1)
		gx_replay_add_approval(f->r, m->offset, m->payload, m->len);
	else
		gx_replay_add_decision(f->r, m->partition, m->offset, m->payload, m->len);
	return 0;
}

struct replay_out {
	int json;
	long shown;
};

static void on_finding(void *opaque, json_t *f)
{
	struct replay_out *o = opaque;
	o->shown++;
	if (o->json) {
		print_json_line(f);
		return;
	}
	json_t *seq = json_object_get(f, "seq");
	printf("%-18s chain=%s seq=%lld record=%s%s%s: %s\n",
	       json_string_value(json_object_get(f, "kind")),
	       json_string_value(json_object_get(f, "chain")) ?: "-",
	       seq ? (long long)json_integer_value(seq) : -1LL,
	       json_string_value(json_object_get(f, "record_id")) ?: "-",
	       json_object_get(f, "consumer") ? " consumer=" : "",
	       json_string_value(json_object_get(f, "consumer")) ?: "",
	       json_string_value(json_object_get(f, "detail")));
}

/* Read catalogue, approvals and decisions into a replay. */
static int feed_all(struct ctl *x, gx_replay_t *r)
{
	const char *kinds[] = {"catalog", "approvals", "decisions"};
	for (int k = 0; k < 3; k++) {
		struct replay_feed feed = {r, k};
		int rc = load_state(x, kinds[k], on_replay_msg, &feed);
		if (rc)
			return rc;
	}
	return GX_EXIT_OK;
}

int cmd_replay(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},
	    {"consumer", required_argument, NULL, 'C'},
	    {"item", required_argument, NULL, 'I'},
	    {"pubkey", required_argument, NULL, 'K'},
	    {"json", no_argument, NULL, 'J'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	gx_replay_filter_t f = {0};
	const char *pubkey = NULL;
	struct replay_out out = {0, 0};
	int c, rc;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if ((rc = opt_time(x, "--from", optarg, &f.from_ms)))
				return rc;
			break;
		case 'T':
			if ((rc = opt_time(x, "--to", optarg, &f.to_ms)))
				return rc;
			break;
		case 'C': f.consumer = optarg; break;
		case 'I': f.item = optarg; break;
		case 'K': pubkey = optarg; break;
		case 'J': out.json = 1; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	gx_schemas_t *schemas = NULL;
	gx_replay_t *r = NULL;
	if ((rc = ctl_configure(x)))
		return rc;
	if (pubkey && gx_verifier_load(pubkey, x->cc.seal.sm2_id, &f.verifier,
				       err, sizeof(err)))
		return fail_usage(x, "--pubkey: %s", err);
	if ((rc = load_schemas(&schemas)))
		goto out;
	r = gx_replay_new(schemas);
	if ((rc = feed_all(x, r)))
		goto out;
	gx_replay_totals_t t;
	gx_replay_run(r, &f, on_finding, &out, &t);
	char summary[512];
	snprintf(summary, sizeof(summary),
		 "%ld decision messages, %ld decisions checked, %ld agree; %ld "
		 "checkpoints, %ld verified%s; %ld findings",
		 t.messages, t.decisions, t.agreed, t.checkpoints,
		 t.checkpoints_verified, f.verifier ? "" : " (no --pubkey given)",
		 t.findings);
	if (out.json) {
		json_t *sj = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "summary", summary,
				       "messages", (json_int_t)t.messages,
				       "decisions", (json_int_t)t.decisions,
				       "agreed", (json_int_t)t.agreed,
				       "checkpoints", (json_int_t)t.checkpoints,
				       "checkpoints_verified", (json_int_t)t.checkpoints_verified,
				       "findings", (json_int_t)t.findings);
		print_json_line(sj);
		json_decref(sj);
	} else {
		printf("%s\n", summary);
	}
	rc = t.findings ? GX_EXIT_CHECK : GX_EXIT_OK;
out:
	gx_replay_destroy(r);
	gx_schemas_destroy(schemas);
	gx_verifier_destroy(f.verifier);
	return rc;
}

struct why_state {
	const char *record_id;
	json_t *msg;
};

static int on_why_decision(void *opaque, const rd_kafka_message_t *m)
{
	struct why_state *w = opaque;
	if (m->key_len == strlen(w->record_id) &&
	    !memcmp(m->key, w->record_id, m->key_len)) {
		json_decref(w->msg);
		w->msg = json_loadb(m->payload, m->len, 0, NULL);
	}
	return 0;
}

/* Why did consumer C get (or not get) record R: the decision, the grant
 * and the approval events behind it. */
int cmd_why(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"consumer", required_argument, NULL, 'C'},
	    {"json", no_argument, NULL, 'J'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *consumer = NULL, *rid = NULL;
	int json = 0, c, rc;
	rid = take_operand(&argc, &argv);
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'C')
			consumer = optarg;
		else if (c == 'J')
			json = 1;
		else if ((rc = common_opt(x, c, argv)) >= 0)
			return rc;
	}
	if (!rid && optind < argc)
		rid = argv[optind++];
	if (!rid || !consumer)
		return fail_usage(x, "usage: govexctl why RECORD --consumer C [--json]");
	if ((rc = ctl_configure(x)))
		return rc;
	struct why_state w = {rid, NULL};
	gx_approvals_t *ap = gx_approvals_new();
	if ((rc = load_state(x, "decisions", on_why_decision, &w)) ||
	    (rc = load_state(x, "approvals", on_approval, ap)))
		goto out;
	if (!w.msg) {
		fprintf(stderr, PROG " why: no decision recorded for record %s (no "
				"consumer held a grant on its item, or it was refused "
				"at ingest: see govexctl rejected)\n", rid);
		rc = GX_EXIT_CHECK;
		goto out;
	}
	json_t *dec = NULL, *e;
	size_t i;
	json_array_foreach(json_object_get(w.msg, "decisions"), i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "consumer")) ?: "", consumer))
			dec = e;
	}
	if (!dec) {
		fprintf(stderr, PROG " why: %s held no grant on item %s when record %s "
				"was decided: nothing was released to it\n",
			consumer, json_string_value(json_object_get(w.msg, "item")), rid);
		rc = GX_EXIT_CHECK;
		goto out;
	}
	const gx_grant_t *g =
	    gx_approvals_grant(ap, json_string_value(json_object_get(dec, "grant_id")) ?: "");
	const gx_request_t *req = g ? gx_approvals_request(ap, g->request_id) : NULL;
	if (json) {
		json_t *o = json_object();
		json_object_set(o, "decision", dec);
		json_object_set_new(o, "record_id", json_string(rid));
		json_object_set(o, "item", json_object_get(w.msg, "item"));
		json_object_set(o, "at", json_object_get(w.msg, "at"));
		json_object_set(o, "approvals_offset", json_object_get(w.msg, "approvals_offset"));
		if (req) {
			json_t *rq = json_object();
			json_object_set_new(rq, "request_id", json_string(req->id));
			json_object_set_new(rq, "fields", json_strv(&req->fields));
			json_object_set_new(rq, "purpose", json_string(req->purpose));
			json_object_set_new(rq, "basis", json_string(req->basis));
			json_object_set_new(rq, "at", json_time(req->at_ms));
			json_object_set_new(o, "request", rq);
		}
		if (g) {
			json_t *gj = json_object();
			json_object_set_new(gj, "grant_id", json_string(g->id));
			json_object_set_new(gj, "fields", json_strv(&g->fields));
			json_object_set_new(gj, "approved_by", json_string(g->approved_by));
			json_object_set_new(gj, "automatic", json_boolean(g->automatic));
			json_object_set_new(gj, "from", json_time(g->from_ms));
			json_object_set_new(gj, "until", g->until_ms ? json_time(g->until_ms) : json_null());
			json_object_set_new(gj, "revoked", json_boolean(g->revoked));
			if (g->revoked) {
				json_object_set_new(gj, "revoked_by", json_string(g->revoked_by));
				json_object_set_new(gj, "revoked_at", json_time(g->revoked_at_ms));
			}
			json_object_set_new(o, "grant", gj);
		}
		print_json_line(o);
		json_decref(o);
	} else {
		char at[40];
		fmt_ms(json_integer_value(json_object_get(w.msg, "at")), at, sizeof(at));
		char *rel = json_dumps(json_object_get(dec, "released"), JSON_COMPACT);
		printf("record %s (item %s), decided %s for %s:\n  %s (%s), fields %s\n",
		       rid, json_string_value(json_object_get(w.msg, "item")), at, consumer,
		       json_string_value(json_object_get(dec, "verdict")),
		       json_string_value(json_object_get(dec, "reason")), rel);
		free(rel);
		if (req) {
			char ra[40];
			fmt_ms(req->at_ms, ra, sizeof(ra));
			printf("  request %s filed %s by %s for %s\n    purpose: %s\n    "
			       "basis: %s\n", req->id, ra, req->consumer, req->item,
			       req->purpose, req->basis);
		}
		if (g) {
			char ga[40], gu[40] = "open-ended";
			fmt_ms(g->from_ms, ga, sizeof(ga));
			if (g->until_ms)
				fmt_ms(g->until_ms, gu, sizeof(gu));
			char *gf = gx_strv_join(&g->fields, ",");
			printf("  grant %s: %s by %s at %s, until %s, fields %s\n", g->id,
			       g->automatic ? "granted automatically (unconditional fields)"
					    : "approved", g->approved_by, ga, gu, gf);
			free(gf);
			if (g->revoked) {
				char rv[40];
				fmt_ms(g->revoked_at_ms, rv, sizeof(rv));
				printf("  revoked by %s at %s: %s\n", g->revoked_by, rv,
				       g->revoke_reason);
			}
		}
	}
	rc = GX_EXIT_OK;
out:
	json_decref(w.msg);
	gx_approvals_destroy(ap);
	return rc;
}

struct subject_scan {
	const char *hash;
	int64_t from, to;
	json_t *hits;
};

static int on_subject_decision(void *opaque, const rd_kafka_message_t *m)
{
	struct subject_scan *sc = opaque;
	/* Cheap test first: the hash must appear in the message at all. */
	if (!m->len || !memmem(m->payload, m->len, sc->hash, 64))
		return 0;
	json_t *j = json_loadb(m->payload, m->len, 0, NULL);
	const char *sub = json_string_value(json_object_get(j, "subject"));
	int64_t at = json_integer_value(json_object_get(j, "at"));
	if (sub && !strcmp(sub, sc->hash) && (!sc->from || at >= sc->from) &&
	    (!sc->to || at <= sc->to)) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(j, "decisions"), i, e) {
			if (!json_array_size(json_object_get(e, "released")))
				continue; /* only what somebody received */
			json_t *h = json_object();
			json_object_set_new(h, "at", json_time(at));
			json_object_set(h, "consumer", json_object_get(e, "consumer"));
			json_object_set(h, "item", json_object_get(j, "item"));
			json_object_set(h, "provider", json_object_get(j, "provider"));
			json_object_set(h, "fields", json_object_get(e, "released"));
			json_object_set(h, "grant_id", json_object_get(e, "grant_id"));
			json_object_set(h, "purpose", json_object_get(e, "purpose"));
			json_object_set(h, "record_id", json_object_get(j, "record_id"));
			json_array_append_new(sc->hits, h);
		}
	}
	json_decref(j);
	return 0;
}

/*
 * govexctl subject ID --secret FILE: every release of data about one
 * citizen or company, from the decision log alone. The log holds only a
 * keyed hash of the subject, so the exchange's subject secret is needed to
 * look one up, and no raw ID is stored anywhere.
 */
int cmd_subject(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"secret", required_argument, NULL, 'S'},
	    {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},
	    {"json", no_argument, NULL, 'J'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *id = NULL, *secret_file = NULL;
	struct subject_scan sc = {0};
	int json = 0, c, rc;
	char err[512];
	id = take_operand(&argc, &argv);
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'S': secret_file = optarg; break;
		case 'F':
			if ((rc = opt_time(x, "--from", optarg, &sc.from)))
				return rc;
			break;
		case 'T':
			if ((rc = opt_time(x, "--to", optarg, &sc.to)))
				return rc;
			break;
		case 'J': json = 1; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (!id && optind < argc)
		id = argv[optind++];
	if (!id || !*id || !secret_file)
		return fail_usage(x, "usage: govexctl subject ID --secret FILE "
				  "[--from T] [--to T] [--json] (FILE: the broker's "
				  "broker.subject.secret.file)");
	unsigned char secret[GX_SECRET_MAX];
	size_t secret_len;
	if (gx_secret_read(secret_file, secret, &secret_len, err, sizeof(err)))
		return fail_usage(x, "--secret: %s", err);
	char hash[GX_HASH_HEX];
	gx_decision_subject(secret, secret_len, id, strlen(id), hash);
	memset(secret, 0, sizeof(secret));
	if ((rc = ctl_configure(x)))
		return rc;
	sc.hash = hash;
	sc.hits = json_array();
	if ((rc = load_state(x, "decisions", on_subject_decision, &sc))) {
		json_decref(sc.hits);
		return rc;
	}
	size_t i;
	json_t *h;
	if (json) {
		json_array_foreach(sc.hits, i, h) print_json_line(h);
	} else {
		struct table t;
		const char *hdr[] = {"WHEN", "RECEIVED BY", "ITEM", "FIELDS", "PURPOSE",
				     "GRANT"};
		table_init(&t, 6, hdr);
		json_array_foreach(sc.hits, i, h) {
			char *f = json_dumps(json_object_get(h, "fields"), JSON_COMPACT);
			table_cell(&t, json_string_value(json_object_get(h, "at")));
			table_cell(&t, json_string_value(json_object_get(h, "consumer")));
			table_cell(&t, json_string_value(json_object_get(h, "item")));
			table_cell(&t, f);
			table_cell(&t, json_string_value(json_object_get(h, "purpose")));
			table_cell(&t, json_string_value(json_object_get(h, "grant_id")));
			free(f);
		}
		table_print(&t, stdout);
		table_free(&t);
		printf("%zu release%s of data about this subject\n", json_array_size(sc.hits),
		       json_array_size(sc.hits) == 1 ? "" : "s");
	}
	json_decref(sc.hits);
	return GX_EXIT_OK;
}

/*
 * govexctl what-if (--catalog FILE | --revoke GRANT --at TIME) [--from T]
 * [--to T] [--json]: replays the period under the proposed change and lists
 * every decision it would alter. Exit 0 whether or not anything changes.
 */
int cmd_what_if(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"catalog", required_argument, NULL, 'K'},
	    {"revoke", required_argument, NULL, 'R'},
	    {"at", required_argument, NULL, 'A'},
	    {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},
	    {"json", no_argument, NULL, 'J'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	gx_replay_filter_t f = {0};
	const char *catalog = NULL, *at = NULL;
	struct replay_out out = {0, 0};
	int c, rc;
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'K': catalog = optarg; break;
		case 'R': f.revoke_grant = optarg; break;
		case 'A': at = optarg; break;
		case 'F':
			if ((rc = opt_time(x, "--from", optarg, &f.from_ms)))
				return rc;
			break;
		case 'T':
			if ((rc = opt_time(x, "--to", optarg, &f.to_ms)))
				return rc;
			break;
		case 'J': out.json = 1; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!catalog == !f.revoke_grant)
		return fail_usage(x, "give either --catalog FILE or --revoke GRANT --at TIME");
	if (f.revoke_grant && (!at || gx_parse_time_ms(at, &f.revoke_at)))
		return fail_usage(x, "--revoke needs --at TIME (a date or RFC 3339 time)");
	f.what_if = 1;
	gx_schemas_t *schemas = NULL;
	gx_replay_t *r = NULL;
	if (catalog) {
		json_error_t je;
		json_t *j = json_load_file(catalog, JSON_REJECT_DUPLICATES, &je);
		if (!j)
			return fail_usage(x, "%s:%d: %s", catalog, je.line, je.text);
		f.proposed_items = json_object();
		json_t *arr = json_is_array(j) ? j : NULL;
		size_t i, n = arr ? json_array_size(arr) : 1;
		for (i = 0; i < n; i++) {
			json_t *it = arr ? json_array_get(arr, i) : j;
			const char *id = json_string_value(json_object_get(it, "item"));
			if (!id) {
				json_decref(j);
				json_decref(f.proposed_items);
				return fail_usage(x, "%s: item %zu has no \"item\" id", catalog,
						  i + 1);
			}
			json_object_set(f.proposed_items, id, it);
		}
		json_decref(j);
	}
	if ((rc = ctl_configure(x)) || (rc = load_schemas(&schemas)))
		goto out;
	r = gx_replay_new(schemas);
	if ((rc = feed_all(x, r)))
		goto out;
	gx_replay_totals_t t;
	gx_replay_run(r, &f, on_finding, &out, &t);
	char summary[300];
	snprintf(summary, sizeof(summary),
		 "%ld decisions replayed under the proposed change: %ld would change",
		 t.decisions, t.findings);
	if (out.json) {
		json_t *sj = json_pack("{s:s,s:I,s:I}", "summary", summary, "decisions",
				       (json_int_t)t.decisions, "would_change",
				       (json_int_t)t.findings);
		print_json_line(sj);
		json_decref(sj);
	} else {
		printf("%s\n", summary);
	}
	rc = GX_EXIT_OK;
out:
	json_decref(f.proposed_items);
	gx_replay_destroy(r);
	gx_schemas_destroy(schemas);
	return rc;
}
