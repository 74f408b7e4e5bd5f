# jos-settle: plain Makefile.
#   make          build bin/jos-settle
#   make test     build and run every test (unit tests, then tests/*.sh end-to-end)
#   make check    the same with -fsanitize=address,undefined
#   make valgrind the unit tests and end-to-end runs under valgrind
#   make demo     install what is missing, build, settle the bundled example region
#   make bench    national-scale benchmark (see scenarios/gen and tests/bench.sh)
#   make fuzz     every libFuzzer harness tests/fuzz/fuzz_*.c for FUZZ_SECONDS (default 60)
#                 each, in build-fuzz/ (clang); make fuzz-smoke: a few seconds each
# BUILD=dir puts objects elsewhere (each sanitizer flavour gets its own folder).

BUILD    ?= build
VERSION  := 0.1.0
CC       ?= cc
PKGS     := libxml-2.0 openssl xmlsec1-openssl xlsxwriter
TESTPKGS := cmocka
# Debian packages that provide the pkg-config modules and the tools the tests run.
DEB_PKGS := build-essential pkg-config libxml2-dev libxml2-utils libssl-dev openssl \
            libxmlsec1-dev xmlsec1 libcmocka-dev libxlsxwriter-dev valgrind \
            python3 python3-openpyxl openjdk-17-jdk-headless softhsm2 libengine-pkcs11-openssl \
            clang libclang-rt-14-dev

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
OPT      ?= -O2 -g
SAN      ?=
CFLAGS   := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) $(WARN) $(SAN) \
            -I. $(PKG_CFLAGS) -DJOS_VERSION='"$(VERSION)"'
LDFLAGS  := $(SAN)

LIB_SRC  := $(filter-out engine/main.c,$(wildcard engine/*.c formats/*.c keys/*.c scenarios/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/generated/statement_xsd.o
TEST_SRC := $(wildcard tests/engine/*.c tests/formats/*.c tests/keys/*.c tests/scenarios/*.c)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/%)
TEST_SUPPORT := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
GEN_SRC  := $(wildcard scenarios/gen/*.c)
BIN      := bin/jos-settle

.SECONDARY: $(TEST_SUPPORT_OBJ)
.PHONY: all deps test unit e2e check valgrind demo bench clean fuzz fuzz-build fuzz-smoke
all: deps $(BIN)

# deps: install whatever Debian package is missing (as root), or print the command.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "deps: missing packages; run: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The statement schema is compiled into the library, so verify needs no path at run time.
$(BUILD)/generated/statement_xsd.c: formats/statement.xsd
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@{ echo '/* generated from formats/statement.xsd by the Makefile: do not edit */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char fmt_stmt_xsd_bytes[];'; \
	  echo 'extern const size_t fmt_stmt_xsd_size;'; \
	  echo 'const unsigned char fmt_stmt_xsd_bytes[] = {'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t fmt_stmt_xsd_size = sizeof fmt_stmt_xsd_bytes;'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/generated/statement_xsd.o: $(BUILD)/generated/statement_xsd.c
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libjos.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	@ar rcs $@ $^

$(BIN): $(BUILD)/engine/main.o $(BUILD)/libjos.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libjos.a $(TEST_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	@echo "  TEST    $<"
	@$(CC) $(CFLAGS) -Itests -MMD -MP -o $@ $< $(TEST_SUPPORT_OBJ) $(BUILD)/libjos.a $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/gen: $(GEN_SRC) $(BUILD)/libjos.a
	$(CC) $(CFLAGS) -o $@ $(GEN_SRC) $(BUILD)/libjos.a $(PKG_LIBS)

# Unit tests (cmocka), then the end-to-end scripts tests/*.sh (each gets the binary's path).
# Each prints a closing line "unit: N passed, N failed" counting test programs.
unit: $(TEST_BIN)
	@ok=0; fail=0; for t in $(TEST_BIN); do \
	  echo "== $$t"; if $(RUNNER) $$t; then ok=$$((ok+1)); else fail=$$((fail+1)); fi; done; \
	  echo "unit: $$ok passed, $$fail failed"; [ $$fail = 0 ]

e2e: $(BIN)
	@ok=0; fail=0; for t in $(sort $(wildcard tests/*.sh)); do \
	  echo "== $$t"; if JOS_RUNNER="$(RUNNER)" JOS_BIN=$(CURDIR)/$(BIN) BUILD=$(BUILD) bash $$t; \
	  then ok=$$((ok+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; done; \
	  echo "e2e: $$ok passed, $$fail failed"; [ $$fail = 0 ]

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit e2e

check: deps
	@$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" BIN=build-san/jos-settle \
	  all unit e2e

valgrind: deps
	@$(MAKE) --no-print-directory BUILD=build-vg OPT="-O0 -g" BIN=build-vg/jos-settle \
	  RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  all unit e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scenarios/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/gen
	@bash scenarios/bench.sh

# Fuzzing (libFuzzer, clang): the library is compiled with clang into build-fuzz/ with
# -fsanitize=fuzzer-no-link,address,undefined (csv.c with a 4-byte read buffer so that
# every record crosses refills), each harness is linked with -fsanitize=fuzzer. A run
# works on a copy of tests/fuzz/corpus/<harness> in $(FUZZ_CORPUS)/ (new inputs
# never land in the repository); crashes go to build-fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_CORPUS  ?= build-fuzz/corpus
FUZZ_CC      ?= clang
FUZZ_HARNESS := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libjos.a
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $<"
	@$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libjos.a $(PKG_LIBS)

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN) -DCSV_BUF_INITIAL=4" \
	  $(FUZZ_HARNESS:%=build-fuzz/fuzz/%)

fuzz: deps fuzz-build
	@fail=0; mkdir -p $(FUZZ_CORPUS) build-fuzz/artifacts; \
	for h in $(FUZZ_HARNESS); do \
	  mkdir -p $(FUZZ_CORPUS)/$$h; \
	  if [ -d tests/fuzz/corpus/$$h ]; then cp -R tests/fuzz/corpus/$$h/. $(FUZZ_CORPUS)/$$h/; fi; \
	  dict=; [ -f tests/fuzz/$$h.dict ] && dict=-dict=tests/fuzz/$$h.dict; \
	  echo "== $$h ($(FUZZ_SECONDS) s)"; \
	  build-fuzz/fuzz/$$h -max_total_time=$(FUZZ_SECONDS) -timeout=20 -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/artifacts/$$h- $$dict $(FUZZ_CORPUS)/$$h \
	    >build-fuzz/$$h.log 2>&1 || { fail=1; echo "$$h: FAILED, see build-fuzz/$$h.log"; tail -n 60 build-fuzz/$$h.log; }; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' build-fuzz/$$h.log; \
	done; exit $$fail

# A few seconds per harness from the seed corpus alone (what tests/fuzz.sh runs).
fuzz-smoke:
	@rm -rf build-fuzz/smoke-corpus
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(or $(FUZZ_SMOKE_SECONDS),3) \
	  FUZZ_CORPUS=build-fuzz/smoke-corpus

clean:
	rm -rf build build-san build-vg build-fuzz bin

-include $(LIB_OBJ:.o=.d) $(BUILD)/engine/main.d $(TEST_SUPPORT_OBJ:.o=.d) $(TEST_BIN:=.d)
