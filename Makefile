# oj — one Makefile for everything. `make` builds bin/oj; `make test` installs what is
# missing, builds, checks gen/ is fresh and runs every test twice (plain, then under
# AddressSanitizer + UndefinedBehaviorSanitizer); `make bench` prints the benchmark report.

CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   := build/san
BIN     := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else
BUILD   := build/plain
BIN     := bin
SANFLAGS :=
OPT     := -O2
endif

# The daemon's layers, top to bottom (docs/architecture.md; `make check-layers` keeps
# every include pointing down). Headers are included by name, so each is on the path.
DAEMON_DIRS := daemon daemon/rpc daemon/engine daemon/rules daemon/runners daemon/wire \
               daemon/store daemon/base
INCLUDES := -Igen -Icommon $(DAEMON_DIRS:%=-I%) -Icli
CFLAGS  := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) -pthread -MMD -MP \
           $(INCLUDES) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := -pthread $(SANFLAGS)
LIBS    := -lnng -lprotobuf-c -lcjson -lz
# Criterion 2.4.1 uses nanomsg internally and libnng exports the same nn_* names: load
# nanomsg first so Criterion gets its own (else a test touching nng_fini looks like a crash).
TEST_LIBS := -Wl,--no-as-needed -lcriterion -l:libnanomsg.so.5 -Wl,--as-needed $(LIBS)

PROTOS  := proto/wire.proto proto/oj.proto
GEN_C   := gen/wire.pb-c.c gen/oj.pb-c.c
GEN_H   := $(GEN_C:.c=.h)

LIB_SRC := $(GEN_C) $(wildcard common/*.c) $(foreach d,$(DAEMON_DIRS),$(wildcard $(d)/*.c)) \
           $(filter-out cli/oj.c,$(wildcard cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
E2E_SRC  := $(wildcard tests/e2e/*.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)

.SECONDARY:
.PHONY: all test tests check-gen check-layers gen clean bench demo deps fuzz soak install \
        uninstall docs
all: $(BIN)/oj $(BIN)/oj-fake-agent

deps:
	@scripts/install-deps.sh

# ---- generated protocol code (committed; `make check-gen` proves it is fresh) ----
gen: $(GEN_C)
gen/%.pb-c.c gen/%.pb-c.h: proto/%.proto
	@mkdir -p gen
	protoc-c --c_out=gen -Iproto $<

check-gen:
	@tmp=$$(mktemp -d) && protoc-c --c_out=$$tmp -Iproto $(PROTOS) && \
	if diff -r -q $$tmp gen >/dev/null; then rm -rf $$tmp; echo "gen/ is up to date with proto/"; \
	else diff -r $$tmp gen | head -20; rm -rf $$tmp; \
	  echo "gen/ is stale: run 'make gen' and commit gen/"; exit 1; fi

# Every include and call in the daemon points down a layer (scripts/check-layers.py).
check-layers: $(LIB_OBJ)
	@/usr/bin/python3 scripts/check-layers.py --objects $(BUILD)/obj

# ---- binaries ---------------------------------------------------------------
$(BUILD)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/liboj.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/oj: $(BUILD)/obj/cli/oj.o $(BUILD)/liboj.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The scripted stand-in for a coding agent, next to oj so that sessions (whose
# PATH starts with oj's own directory) and the example runbook find it.
$(BIN)/oj-fake-agent: tests/agents/fake-agent.sh
	@mkdir -p $(BIN)
	install -m 0755 $< $@

$(BUILD)/tests/unit: $(UNIT_SRC:%.c=$(BUILD)/obj/%.o) $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/liboj.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/e2e: $(E2E_SRC:%.c=$(BUILD)/obj/%.o) $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/liboj.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/bench/oj-bench: $(BENCH_SRC:%.c=$(BUILD)/obj/%.o) $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/liboj.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/empty: tests/bench/empty_main.c.in
	@mkdir -p $(dir $@)
	$(CC) -x c -O2 -o $@ $<

$(BUILD)/bench/oneshot: tests/bench/oneshot_main.c.in
	@mkdir -p $(dir $@)
	$(CC) -x c -O2 -o $@ $< -lnng

tests: $(BIN)/oj $(BIN)/oj-fake-agent $(BUILD)/tests/unit $(BUILD)/tests/e2e

# ---- the commands in the README ------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory check-gen
	@$(MAKE) --no-print-directory check-layers
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory SAN=1 tests
	@scripts/run-tests.sh build/plain:bin build/san:build/san/bin

bench: deps
	@$(MAKE) --no-print-directory all build/plain/bench/oj-bench build/plain/bench/empty \
	  build/plain/bench/oneshot
	@scripts/bench.sh

# ---- fuzzing (not part of make test): the WAL line parser, a whole WAL through the recovery
# rules, the snapshot loader and the reading of requests (RequestFrame, every rpc's payload,
# their stateless checks) ----
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := wal_line wal_file snapshot request
FUZZ_LIB := daemon/store/wal.c daemon/store/crc_tail.c daemon/store/recovery.c \
            daemon/store/snapshot.c \
            daemon/store/state.c daemon/base/hmap.c daemon/base/log.c daemon/base/json.c \
            common/crc32.c common/fsutil.c common/fnv.c \
            daemon/wire/request.c daemon/rpc/rpc_checks.c daemon/rules/locks.c common/utf8.c \
            common/pb_utf8.c $(GEN_C)
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined $(INCLUDES) -pthread
build/fuzz/%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $^ -lcjson -lprotobuf-c -lz

fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=build/fuzz/%)
	@for t in $(FUZZ_TARGETS); do \
	  seeds=tests/fuzz/corpus/$${t%%_*}; mkdir -p build/fuzz/corpus-$$t; \
	  echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus-$$t $$seeds || exit 1; \
	done

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# ---- soak (not part of make test): a compressed week's load, every growing quantity
# sampled and its slope checked against the days to its limit (scripts/soak.sh;
# SOAK_MINUTES=60 for the one-hour run) ----
soak: deps
	@$(MAKE) --no-print-directory all
	@scripts/soak.sh

# ---- install: `make install PREFIX=$$HOME/.local` (DESTDIR for staging) ----------------
# The man pages and completions are written by the freshly built oj from its command
# table (`oj help --man`, `oj completion <shell>`), oj-runbook(5) from docs/runbooks.md,
# so none of them can drift from the binary they ship with.
PREFIX  ?= /usr/local
BINDIR  := $(PREFIX)/bin
DATADIR := $(PREFIX)/share
MANDIR  := $(DATADIR)/man
DOCS_OUT := build/docs
DOC_FILES := $(DOCS_OUT)/oj.1 $(DOCS_OUT)/oj-runbook.5 $(DOCS_OUT)/oj.bash $(DOCS_OUT)/_oj \
             $(DOCS_OUT)/oj.fish $(DOCS_OUT)/oj@.service

docs: $(DOC_FILES)
$(DOCS_OUT)/oj.1: bin/oj
	@mkdir -p $(DOCS_OUT)
	bin/oj help --man > $@
$(DOCS_OUT)/oj-runbook.5: docs/runbooks.md scripts/md2man.py common/version.h
	@mkdir -p $(DOCS_OUT)
	/usr/bin/python3 scripts/md2man.py oj-runbook 5 "oj's runbook format: pipelines, phases, jobs" \
	  "oj $$(bin/oj version | cut -d' ' -f2)" < docs/runbooks.md > $@
$(DOCS_OUT)/oj.bash: bin/oj
	@mkdir -p $(DOCS_OUT)
	bin/oj completion bash > $@
$(DOCS_OUT)/_oj: bin/oj
	@mkdir -p $(DOCS_OUT)
	bin/oj completion zsh > $@
$(DOCS_OUT)/oj.fish: bin/oj
	@mkdir -p $(DOCS_OUT)
	bin/oj completion fish > $@
# The unit names the installed oj, so it is written for this PREFIX each time.
$(DOCS_OUT)/oj@.service: scripts/oj@.service.in FORCE
	@mkdir -p $(DOCS_OUT)
	sed 's|@BINDIR@|$(BINDIR)|g' $< > $@
FORCE:

# The dashboard's page (daemon/dashboard/, helper files from npm under its node_modules/),
# copied with the same relative paths, so the daemon maps /vendor/... to
# node_modules/... wherever it finds the dir. Files not there (npm not run) are skipped.
DASH_SRC  ?= daemon/dashboard
DASH_FILES := index.html app.js style.css node_modules/protobufjs/dist/protobuf.min.js \
              node_modules/@xterm/xterm/lib/xterm.js node_modules/@xterm/xterm/css/xterm.css
DASH_DIRS := node_modules/protobufjs/dist node_modules/protobufjs node_modules/@xterm/xterm/lib \
             node_modules/@xterm/xterm/css node_modules/@xterm/xterm node_modules/@xterm \
             node_modules

install: all docs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(DATADIR)/oj/proto $(DESTDIR)$(DATADIR)/bash-completion/completions \
	  $(DESTDIR)$(DATADIR)/zsh/site-functions $(DESTDIR)$(DATADIR)/fish/vendor_completions.d \
	  $(DESTDIR)$(DATADIR)/systemd/user
	install -m 0755 bin/oj bin/oj-fake-agent $(DESTDIR)$(BINDIR)/
	install -m 0644 $(DOCS_OUT)/oj.1 $(DESTDIR)$(MANDIR)/man1/oj.1
	install -m 0644 $(DOCS_OUT)/oj-runbook.5 $(DESTDIR)$(MANDIR)/man5/oj-runbook.5
	install -m 0644 $(DOCS_OUT)/oj.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/oj
	install -m 0644 $(DOCS_OUT)/_oj $(DESTDIR)$(DATADIR)/zsh/site-functions/_oj
	install -m 0644 $(DOCS_OUT)/oj.fish $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/oj.fish
	install -m 0644 $(DOCS_OUT)/oj@.service $(DESTDIR)$(DATADIR)/systemd/user/oj@.service
	install -m 0644 docs/examples/runbook.json $(DESTDIR)$(DATADIR)/oj/runbook.json
	install -m 0644 $(PROTOS) $(DESTDIR)$(DATADIR)/oj/proto/
	@for f in $(DASH_FILES); do if [ -f "$(DASH_SRC)/$$f" ]; then \
	  echo "install $(DASH_SRC)/$$f"; \
	  install -D -m 0644 "$(DASH_SRC)/$$f" "$(DESTDIR)$(DATADIR)/oj/dashboard/$$f" || exit 1; \
	fi; done

INSTALLED := $(BINDIR)/oj $(BINDIR)/oj-fake-agent $(MANDIR)/man1/oj.1 \
             $(MANDIR)/man5/oj-runbook.5 $(DATADIR)/bash-completion/completions/oj \
             $(DATADIR)/zsh/site-functions/_oj $(DATADIR)/fish/vendor_completions.d/oj.fish \
             $(DATADIR)/systemd/user/oj@.service $(DATADIR)/oj/runbook.json \
             $(PROTOS:proto/%=$(DATADIR)/oj/proto/%)
uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)
	rm -f $(DASH_FILES:%=$(DESTDIR)$(DATADIR)/oj/dashboard/%)
	-@for d in $(DASH_DIRS:%=/%) ''; do rmdir "$(DESTDIR)$(DATADIR)/oj/dashboard$$d" 2>/dev/null; done; true
	-rmdir $(DESTDIR)$(DATADIR)/oj/proto $(DESTDIR)$(DATADIR)/oj 2>/dev/null

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
