/*
 * ctl_report.c - govexctl report: the compliance report (art. 23).
 *
 *   govexctl report [--from TIME] [--to TIME] [--format text|json|html]
 *                   [--out FILE] [--pubkey FILE] [--conditional-days N]
 *                   [--offline-days N] [--expiry-days N] [--utc-offset ±HH:MM]
 *
 * Reads <prefix>.catalog, .approvals, .decisions and .rejected from the
 * start, lets gx_report compute the model and prints it as text, as one
 * JSON document, or as one self-contained HTML page. Exit 0 when the report
 * was made (whatever it says), 2 on a usage error, 3 when Kafka or the
 * output file fails.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "govexctl.h"
#include "gx_report.h"

enum { FMT_TEXT, FMT_JSON, FMT_HTML };

struct report_feed {
	gx_report_t *r;
	int kind; /* 0 catalog, 1 approvals, 2 decisions, 3 rejected */
};

static int on_report_msg(void *opaque, const rd_kafka_message_t *m)
{
	struct report_feed *f = opaque;
	switch (f->kind) {
	case 0:
		gx_report_add_catalog(f->r, m->offset, m->key, m->key_len, m->payload,
				      m->len);
		break;
	case 1:
		gx_report_add_approval(f->r, m->offset, m->payload, m->len);
		break;
	case 2:
		gx_report_add_decision(f->r, m->partition, m->offset, m->payload, m->len);
		break;
	default:
		gx_report_add_rejected(f->r, m->partition, m->offset, m->payload, m->len);
	}
	return 0;
}

/* "+08:00", "-05", "+0530", "Z": minutes east of UTC. */
static int parse_offset(const char *s, int *out)
{
	if (!strcmp(s, "Z") || !strcmp(s, "UTC")) {
		*out = 0;
		return 0;
	}
	int sign = *s == '-' ? -1 : 1;
	if (*s != '+' && *s != '-')
		return -1;
	s++;
	int hh = 0, mm = 0, n = 0;
	if (sscanf(s, "%2d:%2d%n", &hh, &mm, &n) == 2 && !s[n]) {
	} else if (strlen(s) == 4 && sscanf(s, "%2d%2d%n", &hh, &mm, &n) == 2 && !s[n]) {
	} else if (sscanf(s, "%2d%n", &hh, &n) == 1 && !s[n]) {
		mm = 0;
	} else {
		return -1;
	}
	if (hh > 14 || mm > 59)
		return -1;
	*out = sign * (hh * 60 + mm);
	return 0;
}

/*
 * A bound of the period. A bare date is a day in the report's zone, and
 * --to DATE takes in the whole of that day; a time is taken as given.
 */
static int period_bound(const char *s, int off_min, int end, int64_t *ms)
{
	int32_t days;
	if (strlen(s) == 10 && !gx_parse_date(s, &days)) {
		*ms = ((int64_t)days + (end ? 1 : 0)) * 86400000 -
		      (int64_t)off_min * 60000 - (end ? 1 : 0);
		return 0;
	}
	return gx_parse_time_ms(s, ms) ? -1 : 0;
}

static const char *sv(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "-";
}

static long long iv(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void num_cell(struct table *t, long long n)
{
	char b[32];
	snprintf(b, sizeof(b), "%lld", n);
	table_cell(t, b);
}

static void count_rows(FILE *out, const char *title, json_t *rows,
		       const char *member, const char *col, const char *empty)
{
	if (!json_array_size(rows))
		return;
	fprintf(out, "%s:\n", title);
	const char *hdr[] = {col, "COUNT"};
	struct table t;
	table_init(&t, 2, hdr);
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		const char *v = json_string_value(json_object_get(r, member));
		table_cell(&t, v && *v ? v : empty);
		num_cell(&t, iv(r, "count"));
	}
	table_print(&t, out);
	table_free(&t);
}

static void verdict_rows(FILE *out, const char *title, json_t *rows,
			 const char *m1, const char *c1, const char *m2,
			 const char *c2)
{
	if (!json_array_size(rows))
		return;
	fprintf(out, "%s:\n", title);
	const char *hdr2[] = {c1, c2, "RELEASED", "PARTLY", "WITHHELD", "DENIED"};
	const char *hdr1[] = {c1, "RELEASED", "PARTLY", "WITHHELD", "DENIED"};
	struct table t;
	table_init(&t, m2 ? 6 : 5, m2 ? hdr2 : hdr1);
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		table_cell(&t, sv(r, m1));
		if (m2)
			table_cell(&t, sv(r, m2));
		num_cell(&t, iv(r, "released"));
		num_cell(&t, iv(r, "partly_released"));
		num_cell(&t, iv(r, "withheld"));
		num_cell(&t, iv(r, "denied"));
	}
	table_print(&t, out);
	table_free(&t);
}

static void print_text(json_t *m, FILE *out)
{
	json_t *p = json_object_get(m, "period"), *l = json_object_get(m, "limits");
	json_t *rq = json_object_get(m, "requests"), *fl = json_object_get(m, "flags");
	json_t *dn = json_object_get(m, "denials"), *rel = json_object_get(m, "releases");
	json_t *gr = json_object_get(m, "grants"), *rj = json_object_get(m, "ingest_refusals");
	json_t *ch = json_object_get(m, "chain");
	fprintf(out, "Compliance report (art. 23), %s to %s, generated %s\n\n",
		json_string_value(json_object_get(p, "from")) ?: "the beginning",
		json_string_value(json_object_get(p, "to")) ?: "now",
		sv(m, "generated_at"));

	fprintf(out, "Requests: %lld (unconditional %lld, conditional %lld, nothing "
		     "shareable %lld): granted at once %lld, approved %lld, refused %lld, "
		     "pending %lld\n",
		iv(rq, "total"), iv(rq, "unconditional"), iv(rq, "conditional"),
		iv(rq, "not_shared"), iv(rq, "automatic"), iv(rq, "approved"),
		iv(rq, "denied"), iv(rq, "pending"));
	fprintf(out, "  granted at once in %.1f s (median), %.1f s (longest); conditional "
		     "answered %lld: %.1f working days (median), %lld (longest)\n",
		json_real_value(json_object_get(rq, "automatic_median_seconds")),
		json_real_value(json_object_get(rq, "automatic_max_seconds")),
		iv(rq, "conditional_answered"),
		json_real_value(json_object_get(rq, "conditional_median_working_days")),
		iv(rq, "conditional_max_working_days"));
	fprintf(out, "  limits: unconditional at once (%lld s); conditional %lld working "
		     "days, %lld where the data is not yet on the exchange (%s)\n\n",
		iv(l, "unconditional_seconds"), iv(l, "conditional_working_days"),
		iv(l, "offline_working_days"), sv(l, "note"));

	fprintf(out, "Flags: %lld (unconditional late %lld, conditional late %lld, "
		     "refusals without a reason %lld)\n",
		iv(fl, "total"), iv(fl, "unconditional_late"), iv(fl, "conditional_late"),
		iv(fl, "refusal_without_reason"));
	json_t *list = json_object_get(fl, "list");
	if (json_array_size(list)) {
		const char *hdr[] = {"KIND", "REQUEST", "CONSUMER", "ITEM", "FILED", "DETAIL"};
		struct table t;
		table_init(&t, 6, hdr);
		size_t i;
		json_t *f;
		json_array_foreach(list, i, f) {
			table_cell(&t, sv(f, "kind"));
			table_cell(&t, sv(f, "request_id"));
			table_cell(&t, sv(f, "consumer"));
			table_cell(&t, sv(f, "item"));
			table_cell(&t, sv(f, "at"));
			table_cell(&t, sv(f, "detail"));
		}
		table_print(&t, out);
		table_free(&t);
	}

	fprintf(out, "\nRefusals: %lld (%lld without a reason)\n", iv(dn, "total"),
		iv(dn, "without_reason"));
	count_rows(out, "Refusals by reason", json_object_get(dn, "by_reason"), "reason", "REASON",
		   "(no reason given)");
	count_rows(out, "Refusals by provider", json_object_get(dn, "by_provider"), "provider",
		   "REFUSED BY", "-");

	fprintf(out, "\nReleases: %lld decisions, %lld released or partly released\n",
		iv(rel, "decisions"), iv(rel, "releases"));
	verdict_rows(out, "Releases by consumer", json_object_get(rel, "by_consumer"), "consumer",
		     "CONSUMER", NULL, NULL);
	verdict_rows(out, "Releases by item", json_object_get(rel, "by_item"), "item", "ITEM",
		     "provider", "PROVIDER");
	count_rows(out, "Not released, by reason", json_object_get(rel, "not_released_by_reason"),
		   "reason", "REASON", "-");

	json_t *near = json_object_get(gr, "near_expiry");
	fprintf(out, "\nGrants: %lld live, %lld revoked, %lld expired; %zu ending within "
		     "%lld days\n",
		iv(gr, "live"), iv(gr, "revoked"), iv(gr, "expired"), json_array_size(near),
		iv(l, "expiry_days"));
	if (json_array_size(near)) {
		const char *hdr[] = {"GRANT", "CONSUMER", "ITEM", "UNTIL", "DAYS LEFT"};
		struct table t;
		table_init(&t, 5, hdr);
		size_t i;
		json_t *g;
		json_array_foreach(near, i, g) {
			table_cell(&t, sv(g, "grant_id"));
			table_cell(&t, sv(g, "consumer"));
			table_cell(&t, sv(g, "item"));
			table_cell(&t, sv(g, "until"));
			num_cell(&t, iv(g, "days_left"));
		}
		table_print(&t, out);
		table_free(&t);
	}

	fprintf(out, "\nRefused at ingest: %lld\n", iv(rj, "total"));
	count_rows(out, "Refused at ingest, by reason", json_object_get(rj, "by_reason"), "reason", "REASON", "-");
	count_rows(out, "Refused at ingest, by program", json_object_get(rj, "by_program"), "by", "PROGRAM", "-");

	fprintf(out, "\nDecision chain: %s: %lld decision messages, %lld decisions "
		     "checked, %lld agree; %lld checkpoints, %lld verified%s; %lld findings\n",
		iv(ch, "findings") ? "FINDINGS" : "ok", iv(ch, "messages"),
		iv(ch, "decisions"), iv(ch, "agreed"), iv(ch, "checkpoints"),
		iv(ch, "checkpoints_verified"),
		json_is_true(json_object_get(ch, "signatures_checked"))
		    ? "" : " (no --pubkey given)",
		iv(ch, "findings"));
	count_rows(out, "Findings by kind", json_object_get(ch, "findings_by_kind"), "kind",
		   "KIND", "-");
	if (iv(ch, "findings"))
		fprintf(out, "  (govexctl replay lists every finding)\n");
}

int cmd_report(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},
	    {"format", required_argument, NULL, 'M'},
	    {"out", required_argument, NULL, 'O'},
	    {"pubkey", required_argument, NULL, 'K'},
	    {"conditional-days", required_argument, NULL, 'D'},
	    {"offline-days", required_argument, NULL, 'N'},
	    {"expiry-days", required_argument, NULL, 'E'},
	    {"utc-offset", required_argument, NULL, 'Z'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	gx_report_opts_t o = {0};
	o.conditional_days = 5;
	o.offline_days = 10;
	o.expiry_days = 30;
	o.utc_offset_min = 480; /* China Standard Time */
	const char *pubkey = NULL, *outpath = NULL, *from = NULL, *to = NULL;
	int fmt = FMT_TEXT, c, rc;
	long n;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'F': from = optarg; break;
		case 'T': to = optarg; break;
		case 'M':
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "html"))
				fmt = FMT_HTML;
			else
				return fail_usage(x, "--format must be text, json or html");
			break;
		case 'O': outpath = optarg; break;
		case 'K': pubkey = optarg; break;
		case 'D':
			if ((rc = opt_int(x, "--conditional-days", optarg, 0, 365, &n)))
				return rc;
			o.conditional_days = (int)n;
			break;
		case 'N':
			if ((rc = opt_int(x, "--offline-days", optarg, 0, 365, &n)))
				return rc;
			o.offline_days = (int)n;
			break;
		case 'E':
			if ((rc = opt_int(x, "--expiry-days", optarg, 0, 3650, &n)))
				return rc;
			o.expiry_days = (int)n;
			break;
		case 'Z':
			if (parse_offset(optarg, &o.utc_offset_min))
				return fail_usage(x, "--utc-offset: expected +HH:MM or -HH:MM");
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (from && period_bound(from, o.utc_offset_min, 0, &o.from_ms))
		return fail_usage(x, "--from: expected a date or RFC 3339 time");
	if (to && period_bound(to, o.utc_offset_min, 1, &o.to_ms))
		return fail_usage(x, "--to: expected a date or RFC 3339 time");
	if (o.from_ms && o.to_ms && o.to_ms < o.from_ms)
		return fail_usage(x, "--to is before --from");
	if (outpath && !*outpath)
		return fail_usage(x, "--out must not be empty");
	gx_schemas_t *schemas = NULL;
	gx_report_t *r = NULL;
	json_t *model = NULL;
	FILE *out;
	if ((rc = ctl_configure(x)))
		return rc;
	if (pubkey && gx_verifier_load(pubkey, x->cc.seal.sm2_id, &o.verifier,
				       err, sizeof(err)))
		return fail_usage(x, "--pubkey: %s", err);
	if ((rc = load_schemas(&schemas)))
		goto done;
	o.now_ms = gx_now_ms();
	r = gx_report_new(schemas, &o);
	static const char *const kinds[] = {"catalog", "approvals", "decisions",
					    "rejected"};
	for (int k = 0; k < 4; k++) {
		struct report_feed feed = {r, k};
		if ((rc = load_state(x, kinds[k], on_report_msg, &feed)))
			goto done;
	}
	model = gx_report_build(r);

	gx_buf_t b;
	gx_buf_init(&b);
	if (fmt == FMT_HTML) {
		gx_report_html(model, &b);
	} else if (fmt == FMT_JSON) {
		char *s = json_dumps(model, JSON_COMPACT | JSON_PRESERVE_ORDER);
		gx_buf_printf(&b, "%s\n", s ? s : "{}");
		free(s);
	} else {
		char *mem = NULL;
		size_t len = 0;
		FILE *ms = open_memstream(&mem, &len);
		if (!ms) {
			gx_buf_free(&b);
			rc = fail_runtime("report: %s", strerror(errno));
			goto done;
		}
		print_text(model, ms);
		fclose(ms);
		gx_buf_append(&b, mem, len);
		free(mem);
	}
	out = outpath ? fopen(outpath, "w") : stdout;
	if (!out) {
		rc = fail_runtime("%s: %s", outpath, strerror(errno));
	} else {
		int bad = fwrite(b.data, 1, b.len, out) != b.len || fflush(out);
		if (outpath && fclose(out))
			bad = 1;
		if (bad)
			rc = fail_runtime("%s: %s", outpath ? outpath : "stdout",
					  strerror(errno));
		else if (outpath)
			fprintf(stderr, PROG " report: wrote %s (%zu bytes)\n", outpath,
				b.len);
	}
	gx_buf_free(&b);
	gx_log(GX_LOG_INFO, "report_made", "format=%s requests=%lld flags=%lld",
	       fmt == FMT_HTML ? "html" : fmt == FMT_JSON ? "json" : "text",
	       (long long)json_integer_value(json_object_get(
		   json_object_get(model, "requests"), "total")),
	       (long long)json_integer_value(json_object_get(
		   json_object_get(model, "flags"), "total")));
done:
	json_decref(model);
	gx_report_destroy(r);
	gx_schemas_destroy(schemas);
	gx_verifier_destroy(o.verifier);
	return rc;
}
