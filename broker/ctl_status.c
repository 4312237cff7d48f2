/*
 * ctl_status.c - govexctl's operations screen: status (once) and top (live).
 *
 * One screen of what operators watch, read from Kafka alone:
 *  - brokers up: the members of every consumer group with committed offsets
 *    on <prefix>.ingest.* (the govex-broker groups), from the admin API's
 *    DescribeConsumerGroups, and the exchange's own lag on the ingest topics;
 *  - lag by consumer agency, per delivery topic and reading group (gx_lag.h:
 *    the same computation as the broker's govex_consumer_lag_records);
 *  - denials in the last hour by reason, from <prefix>.decisions read from
 *    the first record of the hour (offsets for times);
 *  - late providers: catalogue items whose newest ingest record is older
 *    than the update period the item promises (art. 11);
 *  - requests pending longer than N days.
 * The JSON form is built first; the text screen is drawn from it.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "govexctl.h"
#include "gx_catalog.h"
#include "gx_lag.h"
#include "gx_ops.h"

#define HOUR_MS 3600000LL

static volatile sig_atomic_t top_stop;

static void on_top_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* What status keeps between redraws (top): state readers, the scanner,
 * the sliding window of denials. */
struct watch {
	struct ctl *x;
	gx_schemas_t *schemas;
	gx_catalog_t *cat;
	gx_approvals_t *ap;
	gx_state_reader_t *cat_reader, *ap_reader;
	gx_scan_t *scan;
	gx_denials_t *denials;
	long pending_days;
	int timeout_ms;
};

static void watch_free(struct watch *w)
{
	gx_state_reader_destroy(w->cat_reader);
	gx_state_reader_destroy(w->ap_reader);
	gx_scan_destroy(w->scan);
	gx_denials_destroy(w->denials);
	gx_catalog_destroy(w->cat);
	gx_approvals_destroy(w->ap);
	gx_schemas_destroy(w->schemas);
}

/* Open the state readers and the scanner; an exit status. */
static int watch_open(struct watch *w)
{
	char err[1024];
	struct ctl *x = w->x;
	int rc;
	if ((rc = load_schemas(&w->schemas)))
		return rc;
	w->cat = gx_catalog_new(w->schemas);
	w->ap = gx_approvals_new();
	w->denials = gx_denials_new(x->cc.prefix);
	char *ct = gx_topic(x->cc.prefix, "catalog");
	char *at = gx_topic(x->cc.prefix, "approvals");
	if (gx_scan_new(&x->conf, x->cc.brokers, &w->scan, err, sizeof(err)) ||
	    gx_state_reader_new(&x->conf, x->cc.brokers, ct, &w->cat_reader, err,
				sizeof(err)) ||
	    gx_state_reader_catch_up(w->cat_reader, on_catalog, w->cat, w->timeout_ms,
				     err, sizeof(err)) ||
	    gx_state_reader_new(&x->conf, x->cc.brokers, at, &w->ap_reader, err,
				sizeof(err)) ||
	    gx_state_reader_catch_up(w->ap_reader, on_approval, w->ap, w->timeout_ms,
				     err, sizeof(err)))
		rc = fail_runtime("cannot read the exchange's state at %s: %s",
				  x->cc.brokers, err);
	free(ct);
	free(at);
	return rc;
}

static const gx_lag_group_t *find_group(const gx_lag_t *l, const char *id)
{
	for (size_t i = 0; id && i < l->ngroups; i++)
		if (!strcmp(l->groups[i].id, id))
			return &l->groups[i];
	return NULL;
}

static json_t *brokers_json(const gx_lag_t *l)
{
	json_t *groups = json_array();
	long up = 0;
	for (size_t i = 0; i < l->ngroups; i++) {
		const gx_lag_group_t *g = &l->groups[i];
		if (!g->broker)
			continue;
		json_t *o = json_object();
		json_object_set_new(o, "group", json_string(g->id));
		json_object_set_new(o, "state", g->state ? json_string(g->state) : json_null());
		json_t *ms = json_array();
		for (size_t m = 0; m < g->nmembers; m++) {
			json_t *mo = json_object();
			json_object_set_new(mo, "client_id", json_string(g->members[m].client_id));
			json_object_set_new(mo, "host", json_string(g->members[m].host));
			json_object_set_new(mo, "partitions",
					    json_integer(g->members[m].partitions));
			json_array_append_new(ms, mo);
		}
		up += (long)g->nmembers;
		json_object_set_new(o, "members", ms);
		int64_t lag = 0;
		int exact = 1;
		for (size_t r = 0; r < l->ningest; r++)
			if (l->ingest[r].group && !strcmp(l->ingest[r].group, g->id)) {
				lag += l->ingest[r].lag;
				exact &= l->ingest[r].exact;
			}
		json_object_set_new(o, "lag", json_integer(lag));
		json_object_set_new(o, "lag_exact", json_boolean(exact));
		json_array_append_new(groups, o);
	}
	json_t *b = json_object();
	json_object_set_new(b, "up", json_integer(up));
	json_object_set_new(b, "groups", groups);
	return b;
}

static json_t *consumer_lag_json(const gx_lag_t *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->ndelivery; i++) {
		const gx_lag_row_t *r = &l->delivery[i];
		const gx_lag_group_t *g = find_group(l, r->group);
		json_t *o = json_object();
		json_object_set_new(o, "consumer", json_string(r->consumer));
		json_object_set_new(o, "topic", json_string(r->topic));
		json_object_set_new(o, "library", json_string(r->library));
		json_object_set_new(o, "group", r->group ? json_string(r->group) : json_null());
		json_object_set_new(o, "readers", g && g->state ? json_integer((json_int_t)g->nmembers)
							       : json_null());
		json_object_set_new(o, "lag", json_integer(r->lag));
		json_object_set_new(o, "exact", json_boolean(r->exact));
		json_object_set_new(o, "worst", json_boolean(r->worst));
		json_array_append_new(a, o);
	}
	return a;
}

static int cmp_newest_key(const char *prov, const char *item, const gx_newest_t *n)
{
	int c = strcmp(item, n->item);
	return c ? c : strcmp(prov, n->provider);
}

static const gx_newest_t *find_newest(const gx_newest_t *nw, size_t n, const char *prov,
				      const char *item)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_newest_key(prov, item, &nw[mid]);
		if (!c)
			return &nw[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static json_t *timeliness_json(struct watch *w, const gx_newest_t *nw, size_t n,
			       int complete, int64_t now, json_t **late_out)
{
	json_t *late = json_array(), *never = json_array();
	const gx_cat_item_t *it;
	long checked = 0;
	for (size_t ci = 0; (it = gx_catalog_next(w->cat, &ci));) {
		double period = gx_period_seconds(it->update_period);
		if (period <= 0)
			continue;
		checked++;
		const gx_newest_t *f = find_newest(nw, n, it->provider, it->id);
		json_t *o = json_object();
		json_object_set_new(o, "provider", json_string(it->provider));
		json_object_set_new(o, "item", json_string(it->id));
		json_object_set_new(o, "update_period", json_string(it->update_period));
		json_object_set_new(o, "period_seconds", json_integer((json_int_t)period));
		if (!f) {
			json_array_append_new(never, o);
			continue;
		}
		double silent = (now - f->collected_at) / 1000.0;
		if (silent <= period) {
			json_decref(o);
			continue;
		}
		json_object_set_new(o, "last_record", json_time(f->collected_at));
		json_object_set_new(o, "silent_seconds", json_integer((json_int_t)silent));
		json_object_set_new(o, "late_seconds",
				    json_integer((json_int_t)ceil(silent - period)));
		json_array_append_new(late, o);
	}
	json_t *t = json_object();
	json_object_set_new(t, "items_checked", json_integer(checked));
	json_object_set_new(t, "never_seen", never);
	json_object_set_new(t, "complete", json_boolean(complete));
	*late_out = late;
	return t;
}

static json_t *pending_json(struct watch *w, int64_t now)
{
	json_t *a = json_array();
	size_t it = 0;
	const gx_request_t *r;
	int64_t cutoff = now - (int64_t)w->pending_days * 86400000LL;
	while ((r = gx_approvals_next_request(w->ap, &it))) {
		if (r->state != GX_REQ_PENDING || r->at_ms > cutoff)
			continue;
		json_t *o = json_object();
		json_object_set_new(o, "request_id", json_string(r->id));
		json_object_set_new(o, "consumer", json_string(r->consumer));
		json_object_set_new(o, "item", json_string(r->item));
		json_object_set_new(o, "filed", json_time(r->at_ms));
		json_object_set_new(o, "age_days", json_real((now - r->at_ms) / 86400000.0));
		json_array_append_new(a, o);
	}
	json_t *p = json_object();
	json_object_set_new(p, "older_than_days", json_integer(w->pending_days));
	json_object_set_new(p, "requests", a);
	return p;
}

/*
 * Read everything once into the status object. Parts Kafka could not answer
 * are named in "errors" (and the rest still shown); *failed is set then.
 */
static json_t *status_read(struct watch *w, int *failed)
{
	char err[1024];
	struct ctl *x = w->x;
	json_t *st = json_object(), *errors = json_array();
	int64_t now = gx_now_ms();
	int complete = 1;
	*failed = 0;
	/* Catch up with catalogue and approvals written since last time. */
	if (gx_state_reader_poll(w->cat_reader, on_catalog, w->cat, 0, err, sizeof(err)) ||
	    gx_state_reader_poll(w->ap_reader, on_approval, w->ap, 0, err, sizeof(err)))
		json_array_append_new(errors, json_sprintf("state: %s", err));
	json_object_set_new(st, "at", json_time(now));
	json_object_set_new(st, "prefix", json_string(x->cc.prefix));

	gx_lag_t *l = NULL;
	if (gx_lag_read(w->scan, x->cc.prefix, GX_LAG_INGEST | GX_LAG_MEMBERS,
			w->timeout_ms, &l, err, sizeof(err))) {
		json_array_append_new(errors, json_sprintf("lag: %s", err));
		*failed = 1;
		json_object_set_new(st, "brokers", json_null());
		json_object_set_new(st, "consumer_lag", json_null());
	} else {
		complete &= l->complete;
		json_object_set_new(st, "brokers", brokers_json(l));
		json_object_set_new(st, "consumer_lag", consumer_lag_json(l));
		gx_lag_destroy(l);
	}

	json_t *dn = json_object();
	if (gx_denials_update(w->denials, w->scan, now - HOUR_MS, w->timeout_ms, err,
			      sizeof(err))) {
		json_array_append_new(errors, json_sprintf("denials: %s", err));
		*failed = 1;
	}
	json_t *by_consumer;
	long total;
	json_t *by_reason = gx_denials_counts(w->denials, now - HOUR_MS, &by_consumer, &total);
	json_object_set_new(dn, "total", json_integer(total));
	json_object_set_new(dn, "by_reason", by_reason);
	json_object_set_new(dn, "by_consumer", by_consumer);
	json_object_set_new(dn, "complete", json_boolean(gx_denials_complete(w->denials)));
	complete &= gx_denials_complete(w->denials);
	json_object_set_new(st, "denials_last_hour", dn);

	gx_newest_t *nw = NULL;
	size_t nn = 0;
	int ncomplete = 0;
	if (gx_ingest_newest(w->scan, x->cc.prefix, w->schemas, w->cat, 100000,
			     w->timeout_ms, &nw, &nn, &ncomplete, err, sizeof(err))) {
		json_array_append_new(errors, json_sprintf("timeliness: %s", err));
		*failed = 1;
		json_object_set_new(st, "late_providers", json_null());
		json_object_set_new(st, "timeliness", json_null());
	} else {
		json_t *late;
		json_t *t = timeliness_json(w, nw, nn, ncomplete, now, &late);
		json_object_set_new(st, "late_providers", late);
		json_object_set_new(st, "timeliness", t);
		complete &= ncomplete;
	}
	gx_newest_free(nw, nn);

	json_object_set_new(st, "pending_requests", pending_json(w, now));
	json_object_set_new(st, "complete", json_boolean(complete && !*failed));
	json_object_set_new(st, "errors", errors);
	return st;
}

/* "3d4h", "5h12m", "42s" */
static void fmt_age(double s, char *out, size_t n)
{
	long v = (long)s;
	if (v >= 86400)
		snprintf(out, n, "%ldd%ldh", v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		snprintf(out, n, "%ldh%ldm", v / 3600, v % 3600 / 60);
	else if (v >= 60)
		snprintf(out, n, "%ldm%lds", v / 60, v % 60);
	else
		snprintf(out, n, "%lds", v);
}

static const char *js(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static void cell_int(struct table *t, json_int_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	table_cell(t, b);
}

/* Print a table indented by two spaces, and free it. */
static void table_indent(struct table *t, FILE *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (mem) {
		table_print(t, mem);
		fclose(mem);
		for (char *line = text; line && *line;) {
			char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
			fputs("  ", out);
			fwrite(line, 1, n, out);
			line += n;
		}
		free(text);
	}
	table_free(t);
}

/* Draw the text screen from the status object. */
static void status_print(json_t *st, FILE *out)
{
	char b[64];
	fprintf(out, "govex status: prefix %s, %s%s\n", js(st, "prefix"), js(st, "at"),
		json_is_true(json_object_get(st, "complete")) ? "" : " (incomplete)");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(st, "errors"), i, e)
	    fprintf(out, "  ! %s\n", json_string_value(e));

	json_t *br = json_object_get(st, "brokers");
	if (br) {
		json_t *groups = json_object_get(br, "groups");
		fprintf(out, "\nBrokers up: %lld\n",
			(long long)json_integer_value(json_object_get(br, "up")));
		if (!json_array_size(groups)) {
			fprintf(out, "  no broker group has committed offsets on %s.ingest.*\n",
				js(st, "prefix"));
		} else {
			static const char *const h[] = {"group", "state", "instance", "host",
							"partitions", "ingest lag"};
			struct table t;
			table_init(&t, 6, h);
			json_t *g;
			json_array_foreach(groups, i, g) {
				json_t *ms = json_object_get(g, "members");
				size_t nm = json_array_size(ms);
				for (size_t m = 0; m < (nm ? nm : 1); m++) {
					json_t *mo = json_array_get(ms, m);
					table_cell(&t, m ? "" : js(g, "group"));
					table_cell(&t, m ? "" : js(g, "state"));
					table_cell(&t, mo ? js(mo, "client_id") : "(none up)");
					table_cell(&t, mo ? js(mo, "host") : "");
					if (mo)
						cell_int(&t, json_integer_value(
								 json_object_get(mo, "partitions")));
					else
						table_cell(&t, "");
					if (m)
						table_cell(&t, "");
					else
						cell_int(&t, json_integer_value(
								 json_object_get(g, "lag")));
				}
			}
			table_indent(&t, out);
		}
	}

	json_t *cl = json_object_get(st, "consumer_lag");
	if (cl) {
		fprintf(out, "\nLag by consumer agency (records delivered, not yet read):\n");
		if (!json_array_size(cl)) {
			fprintf(out, "  no delivery topics\n");
		} else {
			static const char *const h[] = {"consumer", "topic", "group",
							"readers", "lag"};
			struct table t;
			table_init(&t, 5, h);
			json_t *r;
			json_array_foreach(cl, i, r) {
				table_cell(&t, js(r, "consumer"));
				table_cell(&t, js(r, "topic"));
				table_cell(&t, json_is_null(json_object_get(r, "group"))
						   ? "(never read)" : js(r, "group"));
				json_t *rd = json_object_get(r, "readers");
				if (json_is_integer(rd))
					cell_int(&t, json_integer_value(rd));
				else
					table_cell(&t, "-");
				snprintf(b, sizeof(b), "%lld%s",
					 (long long)json_integer_value(json_object_get(r, "lag")),
					 json_is_true(json_object_get(r, "exact")) ? "" : " (about)");
				table_cell(&t, b);
			}
			table_indent(&t, out);
		}
	}

	json_t *dn = json_object_get(st, "denials_last_hour");
	fprintf(out, "\nDenied or withheld in the last hour: %lld%s\n",
		(long long)json_integer_value(json_object_get(dn, "total")),
		json_is_true(json_object_get(dn, "complete")) ? "" : " (partial)");
	if (json_integer_value(json_object_get(dn, "total"))) {
		static const char *const h[] = {"reason", "count"};
		struct table t;
		table_init(&t, 2, h);
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(dn, "by_reason"), k, v) {
			table_cell(&t, k);
			cell_int(&t, json_integer_value(v));
		}
		table_indent(&t, out);
	}

	json_t *late = json_object_get(st, "late_providers");
	json_t *tl = json_object_get(st, "timeliness");
	if (late && tl) {
		fprintf(out, "\nLate providers (no record for longer than the item's "
			     "update period): %zu of %lld items\n",
			json_array_size(late),
			(long long)json_integer_value(json_object_get(tl, "items_checked")));
		if (json_array_size(late)) {
			static const char *const h[] = {"provider", "item", "period",
							"last record", "late by"};
			struct table t;
			table_init(&t, 5, h);
			json_t *r;
			json_array_foreach(late, i, r) {
				table_cell(&t, js(r, "provider"));
				table_cell(&t, js(r, "item"));
				table_cell(&t, js(r, "update_period"));
				table_cell(&t, js(r, "last_record"));
				fmt_age((double)json_integer_value(json_object_get(r, "late_seconds")),
					b, sizeof(b));
				table_cell(&t, b);
			}
			table_indent(&t, out);
		}
		json_t *never = json_object_get(tl, "never_seen");
		if (json_array_size(never)) {
			fprintf(out, "  no ingest record found for:");
			json_t *r;
			json_array_foreach(never, i, r)
			    fprintf(out, "%s %s (%s)", i ? "," : "", js(r, "item"),
				    js(r, "provider"));
			fprintf(out, "%s\n",
				json_is_true(json_object_get(tl, "complete"))
				    ? "" : " (within the records scanned)");
		}
	}

	json_t *pr = json_object_get(st, "pending_requests");
	json_t *reqs = json_object_get(pr, "requests");
	fprintf(out, "\nRequests pending for more than %lld days: %zu\n",
		(long long)json_integer_value(json_object_get(pr, "older_than_days")),
		json_array_size(reqs));
	if (json_array_size(reqs)) {
		static const char *const h[] = {"request", "consumer", "item", "filed"};
		struct table t;
		table_init(&t, 4, h);
		json_t *r;
		json_array_foreach(reqs, i, r) {
			table_cell(&t, js(r, "request_id"));
			table_cell(&t, js(r, "consumer"));
			table_cell(&t, js(r, "item"));
			table_cell(&t, js(r, "filed"));
		}
		table_indent(&t, out);
	}
}

/* Options shared by status and top; an exit status, or -1 to go on. */
static int parse_opts(struct ctl *x, int argc, char **argv, int top, int *json,
		      long *pending_days, int64_t *interval_ms)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"pending-days", required_argument, NULL, 'P'},
	    {"interval", required_argument, NULL, 'I'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	int c, rc;
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			if (top)
				return fail_usage(x, "--json is for govexctl status");
			*json = 1;
			break;
		case 'P':
			if ((rc = opt_int(x, "--pending-days", optarg, 0, 36500, pending_days)))
				return rc;
			break;
		case 'I':
			if (!top)
				return fail_usage(x, "--interval is for govexctl top");
			if ((rc = opt_duration(x, "--interval", optarg, interval_ms)))
				return rc;
			if (*interval_ms < 100)
				return fail_usage(x, "--interval: at least 100ms");
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	return ctl_configure(x) ? GX_EXIT_USAGE : -1;
}

int cmd_status(struct ctl *x, int argc, char **argv)
{
	int json = 0, rc;
	long pending_days = 5;
	int64_t interval = 0;
	if ((rc = parse_opts(x, argc, argv, 0, &json, &pending_days, &interval)) >= 0)
		return rc;
	struct watch w = {.x = x, .pending_days = pending_days,
			  .timeout_ms = (int)x->cc.timeout_ms};
	if ((rc = watch_open(&w))) {
		watch_free(&w);
		return rc;
	}
	int failed;
	json_t *st = status_read(&w, &failed);
	if (json)
		print_json_line(st);
	else
		status_print(st, stdout);
	json_decref(st);
	watch_free(&w);
	return failed ? GX_EXIT_RUNTIME : GX_EXIT_OK;
}

int cmd_top(struct ctl *x, int argc, char **argv)
{
	int json = 0, rc;
	long pending_days = 5;
	int64_t interval = 2000;
	if ((rc = parse_opts(x, argc, argv, 1, &json, &pending_days, &interval)) >= 0)
		return rc;
	/* Each read may take a while; never longer than a few redraws. */
	int timeout = (int)x->cc.timeout_ms;
	if (timeout > 3 * interval)
		timeout = (int)(3 * interval);
	if (timeout < 2000)
		timeout = 2000;
	struct watch w = {.x = x, .pending_days = pending_days, .timeout_ms = timeout};
	if ((rc = watch_open(&w))) {
		watch_free(&w);
		return rc;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_top_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!top_stop) {
		int64_t t0 = gx_mono_ms();
		int failed;
		json_t *st = status_read(&w, &failed);
		/* Draw off screen, then clear and show it at once. */
		char *screen = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&screen, &len);
		if (mem) {
			status_print(st, mem);
			fprintf(mem, "\nevery %.1fs; Ctrl-C stops\n", interval / 1000.0);
			fclose(mem);
			fputs("\033[H\033[2J", stdout);
			fwrite(screen, 1, len, stdout);
			fflush(stdout);
			free(screen);
		}
		json_decref(st);
		while (!top_stop && gx_mono_ms() - t0 < interval) {
			struct timespec ts = {0, 50 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	watch_free(&w);
	return GX_EXIT_OK;
}
