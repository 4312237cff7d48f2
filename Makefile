# govex - one non-recursive Makefile.
#
#   make            build everything into build/ (-Wall -Wextra -Werror)
#   make asan       the same with AddressSanitizer + UBSan, into build-asan/
#   make deps       install what a fresh Debian 12 machine lacks (idempotent)
#   make test       unit tests, then integration tests on a private local Kafka
#   make run        the exchange on a local Kafka with sample data (Ctrl-C stops)
#   make bench      benchmarks, printing figures (QUICK=1: the short form)
#   make schemas    regenerate schemas/views/ (the published wire schemas)
#   make clean

CC       ?= cc
O        ?= build
PKGS     := rdkafka avro-c jansson libmicrohttpd openssl uuid libpq
CPPFLAGS += -Ibroker/lib -D_GNU_SOURCE $(shell pkg-config --cflags libpq 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
            -fno-strict-aliasing -MMD -MP
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lrdkafka -lavro -ljansson -lmicrohttpd -lssl -lcrypto -luuid -lpq) -lcsv -lm -lpthread

ifeq ($(SAN),1)
O        := build-asan
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

LIB_SRC   := $(wildcard broker/lib/*.c)
LIB_ASM   := broker/lib/gx_schemas_blob.S
LIB_OBJ   := $(LIB_SRC:%.c=$(O)/%.o) $(O)/broker/lib/gx_schemas_blob.o
LIB       := $(O)/libgovex.a

PROGS     := $(O)/govex-broker $(O)/govexctl $(O)/govex-adapter
BENCHES   := $(patsubst bench/bench_%.c,$(O)/bench-%,$(wildcard bench/bench_*.c))
UNIT_SRC  := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c)
UNIT      := $(O)/tests/unit-tests
INTEG     := $(O)/tests/integration-tests

SCHEMAS   := $(wildcard schemas/*.avsc)

.PHONY: all asan deps test unit integration run clean bench schemas
all: $(PROGS) $(UNIT) $(INTEG) $(BENCHES)

asan:
	$(MAKE) SAN=1 all

deps:
	@deploy/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The schemas are compiled into the library so no program depends on where
# it is run from; the assembler pulls the files in with .incbin.
$(O)/broker/lib/gx_schemas_blob.o: $(LIB_ASM) $(SCHEMAS)
	@mkdir -p $(dir $@)
	$(CC) -c -I. -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/govex-broker: $(O)/broker/govex-broker.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
CTL_SRC   := broker/govexctl.c $(wildcard broker/ctl_*.c)
$(O)/govexctl: $(CTL_SRC:%.c=$(O)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(O)/govex-adapter: $(O)/adapters/govex-adapter.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench-%: $(O)/bench/bench_%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(UNIT_SRC:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion
$(INTEG): $(INTEG_SRC:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

unit: $(UNIT)
	tests/run-tests.sh $(O) unit

integration: $(PROGS) $(INTEG)
	tests/run-tests.sh $(O) integration

test: all
	tests/run-tests.sh $(O)

run: deps all
	deploy/local/run.sh $(O)

# Benchmarks print figures and assert nothing. QUICK=1 is the form the test
# suite runs so they never rot.
# After the micro-benchmarks, bench/macro/run.sh measures the programs on a
# private Kafka against Kafka's own speed (issue 10); BENCH_JSON=FILE names
# where its figures go as JSON as well.
bench: all $(O)/gxbench
	@for b in $(BENCHES); do echo "== $$b"; $$b $(if $(QUICK),--quick) || exit 1; done
	@bench/macro/run.sh --build $(O) $(if $(QUICK),--quick) $(if $(BENCH_JSON),--json $(BENCH_JSON))

# The macro benchmark's helper (not a micro-benchmark: no bench- prefix, so
# `build/bench-* --quick` never runs it); built with everything, so the
# test suite's quick macro benchmark finds it.
all: $(O)/gxbench
$(O)/gxbench: $(O)/bench/macro/gxbench.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The wire schemas derived from schemas/<library>.avsc, published in
# schemas/views/ (tests/unit/test_views.c keeps them in step).
schemas: $(O)/govexctl
	@mkdir -p schemas/views
	@for l in $$($(O)/govexctl schema | cut -d' ' -f1); do \
	    for v in ingest delivery; do \
	        $(O)/govexctl schema $$l --view $$v > schemas/views/$$l.$$v.avsc; \
	    done; \
	done; echo "schemas/views/ regenerated"

clean:
	rm -rf build build-asan

-include $(shell find $(O) -name '*.d' 2>/dev/null)
