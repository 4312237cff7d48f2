/*
 * govex-adapter - a provider agency's adapter: reads its source (a CSV
 * file), validates every row against the library schema, and publishes each
 * valid row as a sealed-ready ingest record to govex.ingest.<library> with
 * an idempotent producer. Every refused row goes to govex.rejected with its
 * line and reason, and the rows after it keep flowing.
 *
 *   govex-adapter [-c FILE] [-b BROKERS] [-o key=value]... --provider P
 *                 --item I --csv FILE
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_catalog.h"
#include "gx_conf.h"
#include "gx_csv.h"
#include "gx_kafka.h"
#include "gx_record.h"
#include "gx_schema.h"

struct adapter_conf {
	char *brokers;
	char *prefix;
	char *log_level;
	char *provider;
	char *item;
	char *source_type;
	char *source_path;
	int64_t catalog_timeout_ms;
	int64_t flush_timeout_ms;
};

#define OFF(m) offsetof(struct adapter_conf, m)
static const gx_confdef_t adapter_defs[] = {
    {"brokers", GX_CONF_STR, OFF(brokers), "127.0.0.1:9092", 0, 0, NULL,
     "Kafka bootstrap servers (also -b)"},
    {"topic.prefix", GX_CONF_STR, OFF(prefix), "govex", 0, 0, NULL,
     "prefix of every govex topic"},
    {"log.level", GX_CONF_ENUM, OFF(log_level), "info", 0, 0,
     "debug|info|warn|error", "lowest level logged"},
    {"adapter.provider", GX_CONF_STR, OFF(provider), NULL, 0, 0, NULL,
     "this provider agency's code; must be the catalogue item's provider"},
    {"adapter.item", GX_CONF_STR, OFF(item), NULL, 0, 0, NULL,
     "catalogue item the source's records belong to"},
    {"source.type", GX_CONF_ENUM, OFF(source_type), "csv", 0, 0, "csv",
     "kind of source"},
    {"source.path", GX_CONF_STR, OFF(source_path), NULL, 0, 0, NULL,
     "source file (CSV with a header row naming schema fields)"},
    {"adapter.catalog.timeout", GX_CONF_DURATION_MS, OFF(catalog_timeout_ms),
     "30s", 1000, 3600000, NULL, "how long to wait for the catalogue"},
    {"adapter.flush.timeout", GX_CONF_DURATION_MS, OFF(flush_timeout_ms),
     "120s", 1000, 86400000, NULL,
     "how long to wait at the end for Kafka to acknowledge every record"},
};

static volatile sig_atomic_t stop;
static long delivery_failures;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A named option (--item I) as the override "key=value". */
static void opt_set(gx_strv_t *ov, const char *key, const char *value)
{
	char *kv = gx_asprintf("%s=%s", key, value);
	gx_strv_push(ov, kv);
	free(kv);
}

static void usage(gx_conf_t *conf, FILE *out)
{
	fprintf(out,
		"usage: govex-adapter [-c FILE] [-b BROKERS] [-o key=value]...\n"
		"                     [--provider P] [--item I] [--csv FILE]\n"
		"Reads a provider's source, validates each row and publishes it\n"
		"to <prefix>.ingest.<library>. Refused rows go to <prefix>.rejected.\n"
		"Configuration keys (kafka.* keys pass through to librdkafka):\n");
	gx_conf_usage(conf, out);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		delivery_failures++;
		if (delivery_failures <= 10)
			gx_log(GX_LOG_ERROR, "delivery_failed", "topic=%s error=%s",
			       rd_kafka_topic_name(m->rkt),
			       rd_kafka_err2name(m->err));
	}
}

struct catalog_load {
	gx_catalog_t *cat;
};

static int on_catalog(void *opaque, const rd_kafka_message_t *m)
{
	struct catalog_load *cl = opaque;
	char err[512];
	char *key = gx_strndup(m->key ? m->key : "", m->key_len);
	if (gx_catalog_apply(cl->cat, key, m->payload, m->len, m->offset, err,
			     sizeof(err)))
		gx_log(GX_LOG_WARN, "catalog_item_refused", "offset=%lld error=%s",
		       (long long)m->offset, err);
	free(key);
	return 0;
}

int main(int argc, char **argv)
{
	struct adapter_conf ac;
	gx_conf_t conf;
	char err[1024];
	const char *conf_file = NULL, *brokers = NULL;
	gx_strv_t overrides;
	gx_strv_init(&overrides);

	gx_log_init("govex-adapter", GX_LOG_INFO);
	gx_kafka_set_logger(gx_log_kafka);
	if (gx_conf_init(&conf, adapter_defs, GX_ARRAY_SIZE(adapter_defs), &ac,
			 err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		return GX_EXIT_USAGE;
	}
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"brokers", required_argument, NULL, 'b'},
	    {"set", required_argument, NULL, 'o'},
	    {"provider", required_argument, NULL, 'P'},
	    {"item", required_argument, NULL, 'I'},
	    {"csv", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:b:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_file = optarg; break;
		case 'b': brokers = optarg; break;
		case 'o': gx_strv_push(&overrides, optarg); break;
		case 'P': opt_set(&overrides, "adapter.provider", optarg); break;
		case 'I': opt_set(&overrides, "adapter.item", optarg); break;
		case 'C': opt_set(&overrides, "source.path", optarg); break;
		case 'h': usage(&conf, stdout); return GX_EXIT_OK;
		default: usage(&conf, stderr); return GX_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "govex-adapter: unexpected argument '%s'\n",
			argv[optind]);
		return GX_EXIT_USAGE;
	}
	/* Command-line settings come after the file so they win. */
	gx_err_t ce = gx_conf_setup(&conf, conf_file, &overrides, brokers, err,
				    sizeof(err));
	gx_strv_free(&overrides);
	if (ce) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	gx_loglevel_t lvl;
	gx_loglevel_parse(ac.log_level, &lvl);
	gx_log_init("govex-adapter", lvl);
	if (!ac.provider || !ac.item || !ac.source_path) {
		fprintf(stderr, "govex-adapter: adapter.provider (--provider), "
				"adapter.item (--item) and source.path (--csv) "
				"are required\n");
		return GX_EXIT_USAGE;
	}
	if (gx_check_code("provider", ac.provider, err, sizeof(err)) ||
	    gx_check_code("item", ac.item, err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		return GX_EXIT_USAGE;
	}

	int rc = GX_EXIT_RUNTIME;
	gx_schemas_t *schemas = NULL;
	gx_catalog_t *cat = NULL;
	gx_state_reader_t *sr = NULL;
	rd_kafka_t *rk = NULL;
	gx_csv_t *csv = NULL;
	FILE *fp = NULL;
	avro_value_t ingest;
	int have_value = 0;
	char *topic = NULL, *rej_topic = NULL, *cat_topic = NULL;
	gx_buf_t buf;
	gx_buf_init(&buf);
	long accepted = 0, refused = 0;

	if (gx_schemas_new(&schemas, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "schemas_failed", "error=\"%s\"", err);
		goto out;
	}
	/* The catalogue says which library the item belongs to and who
	 * provides it; an adapter may publish only its own agency's items. */
	cat = gx_catalog_new(schemas);
	cat_topic = gx_topic(ac.prefix, "catalog");
	struct catalog_load cl = {cat};
	if (gx_state_reader_new(&conf, ac.brokers, cat_topic, &sr, err, sizeof(err)) ||
	    gx_state_reader_catch_up(sr, on_catalog, &cl, (int)ac.catalog_timeout_ms,
				     err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "catalog_unavailable", "error=\"%s\"", err);
		goto out;
	}
	gx_state_reader_destroy(sr);
	sr = NULL;
	const gx_cat_item_t *item = gx_catalog_get(cat, ac.item);
	if (!item) {
		gx_log(GX_LOG_ERROR, "unknown_item", "item=%s", ac.item);
		fprintf(stderr, "govex-adapter: item %s is not in the catalogue\n", ac.item);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	if (strcmp(item->provider, ac.provider)) {
		fprintf(stderr, "govex-adapter: item %s is provided by %s, not %s\n",
			ac.item, item->provider, ac.provider);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	const gx_library_t *lib = item->lib;
	topic = gx_topic_ingest(ac.prefix, lib->name);
	rej_topic = gx_topic(ac.prefix, "rejected");

	static const char *const extra[] = {"enable.idempotence", "true",
					    "acks", "all",
					    "linger.ms", "20",
					    "compression.type", "lz4", NULL};
	rd_kafka_conf_t *kc;
	if (gx_kafka_conf(&conf, ac.brokers, extra, &kc, err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(kc);
		gx_log(GX_LOG_ERROR, "producer_failed", "error=\"%s\"", err);
		goto out;
	}

	fp = fopen(ac.source_path, "rb");
	if (!fp) {
		fprintf(stderr, "govex-adapter: %s: %s\n", ac.source_path, strerror(errno));
		rc = GX_EXIT_USAGE;
		goto out;
	}
	csv = gx_csv_new(fp, ac.source_path);
	gx_csv_row_t row;
	gx_err_t e = gx_csv_next(csv, &row, err, sizeof(err));
	if (e) {
		fprintf(stderr, "govex-adapter: %s\n",
			e == GX_ERR_EOF ? "source is empty: no header row" : err);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	/* Header: each column names a schema field; every required field
	 * must have a column. */
	size_t ncols = row.nfields;
	int *colfield = gx_calloc(ncols, sizeof(int));
	unsigned char *present = gx_calloc(lib->nfields, 1);
	for (size_t i = 0; i < ncols; i++) {
		const gx_field_t *f = gx_library_field(lib, row.fields[i]);
		if (!f || present[f->index]) {
			fprintf(stderr, "govex-adapter: %s:%ld: column %zu '%s': %s\n",
				ac.source_path, row.line, i + 1, row.fields[i],
				f ? "named twice" : "not a field of the library");
			free(colfield);
			free(present);
			rc = GX_EXIT_USAGE;
			goto out;
		}
		colfield[i] = (int)f->index;
		present[f->index] = 1;
	}
	for (size_t i = 0; i < lib->nfields; i++)
		if (!present[i] && !lib->fields[i].nullable) {
			fprintf(stderr, "govex-adapter: %s:%ld: required column '%s' is missing\n",
				ac.source_path, row.line, lib->fields[i].name);
			free(colfield);
			free(present);
			rc = GX_EXIT_USAGE;
			goto out;
		}
	free(present);

	avro_generic_value_new(lib->ingest_iface, &ingest);
	have_value = 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	gx_log(GX_LOG_INFO, "adapter_started", "source=%s item=%s library=%s topic=%s",
	       ac.source_path, ac.item, lib->name, topic);

	while (!stop) {
		e = gx_csv_next(csv, &row, err, sizeof(err));
		if (e == GX_ERR_EOF)
			break;
		char source[512], why[2048];
		const char *reason = NULL;
		long line = row.line;
		if (e) {
			/* The reader's message already names file and line. */
			reason = "malformed_csv";
			snprintf(why, sizeof(why), "%s", err);
			snprintf(source, sizeof(source), "%s", ac.source_path);
			if (e == GX_ERR_IO)
				break;
		} else {
			snprintf(source, sizeof(source), "%s:%ld", ac.source_path, line);
			if (row.nfields != ncols) {
				reason = "wrong_column_count";
				snprintf(why, sizeof(why),
					 "%s: expected %zu columns, got %zu",
					 source, ncols, row.nfields);
			}
		}
		avro_value_t payload;
		if (!reason) {
			avro_value_reset(&ingest);
			gx_record_payload(&ingest, &payload, err, sizeof(err));
			/* Optional fields without a column are null. */
			for (size_t i = 0; i < lib->nfields; i++) {
				avro_value_t fv, br;
				if (lib->fields[i].nullable) {
					avro_value_get_by_index(&payload, i, &fv, NULL);
					avro_value_set_branch(&fv, 0, &br);
					avro_value_set_null(&br);
				}
			}
			for (size_t i = 0; i < ncols && !reason; i++) {
				avro_value_t fv;
				const gx_field_t *f = &lib->fields[colfield[i]];
				avro_value_get_by_index(&payload, f->index, &fv, NULL);
				if (gx_field_set_text(f, &fv, row.fields[i], gx_now_ms(),
						      err, sizeof(err))) {
					reason = "invalid_value";
					snprintf(why, sizeof(why), "%s: %s", source, err);
				}
			}
		}
		if (!reason) {
			char rid[37];
			gx_uuid(rid);
			gx_envelope_t env = {rid, ac.provider, ac.item, source,
					     gx_now_ms(), GX_OP_UPSERT};
			const char *key;
			size_t klen;
			gx_buf_reset(&buf);
			if (gx_ingest_set(&ingest, &env, err, sizeof(err)) ||
			    gx_record_subject(lib, &payload, &key, &klen, err, sizeof(err)) ||
			    gx_avro_so_encode(lib->ingest_fp, &ingest, &buf, err, sizeof(err))) {
				reason = "encode_failed";
				snprintf(why, sizeof(why), "%s: %s", source, err);
			} else {
				rd_kafka_resp_err_t ke =
				    gx_kafka_produce(rk, topic, key, klen, buf.data, buf.len);
				if (ke) {
					gx_log(GX_LOG_ERROR, "produce_failed",
					       "source=%s error=%s", source,
					       rd_kafka_err2str(ke));
					break;
				}
				accepted++;
			}
		}
		if (reason) {
			char q[2200];
			refused++;
			gx_log(GX_LOG_WARN, "row_rejected", "source=%s reason=%s detail=%s",
			       source, reason, gx_log_quote(why, q, sizeof(q)));
			json_t *rj = gx_rejected_json("govex-adapter", reason, why, source,
						      ac.provider, ac.item, NULL, gx_now_ms());
			json_object_set_new(rj, "line", json_integer(line));
			char *s = json_dumps(rj, JSON_COMPACT);
			json_decref(rj);
			rd_kafka_resp_err_t ke = gx_kafka_produce(rk, rej_topic, source, strlen(source),
							 s, strlen(s));
			free(s);
			if (ke) {
				gx_log(GX_LOG_ERROR, "produce_failed", "topic=%s error=%s",
				       rej_topic, rd_kafka_err2str(ke));
				break;
			}
		}
		rd_kafka_poll(rk, 0);
	}
	free(colfield);
	rd_kafka_resp_err_t fe = rd_kafka_flush(rk, (int)ac.flush_timeout_ms);
	if (fe)
		gx_log(GX_LOG_ERROR, "flush_failed", "error=%s unsent=%d",
		       rd_kafka_err2str(fe), rd_kafka_outq_len(rk));
	gx_log(GX_LOG_INFO, "adapter_done",
	       "source=%s accepted=%ld refused=%ld delivery_failures=%ld",
	       ac.source_path, accepted, refused, delivery_failures);
	rc = (fe || delivery_failures || e == GX_ERR_IO) ? GX_EXIT_RUNTIME : GX_EXIT_OK;
	if (stop)
		rc = GX_EXIT_OK;
out:
	if (have_value)
		avro_value_decref(&ingest);
	gx_buf_free(&buf);
	gx_csv_destroy(csv);
	if (fp)
		fclose(fp);
	if (rk)
		rd_kafka_destroy(rk);
	gx_state_reader_destroy(sr);
	gx_catalog_destroy(cat);
	gx_schemas_destroy(schemas);
	free(topic);
	free(rej_topic);
	free(cat_topic);
	gx_strv_free(&overrides);
	gx_conf_free(&conf);
	return rc;
}
