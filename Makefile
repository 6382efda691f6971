# sopgate — one Makefile, readable in one sitting.
#
#   make            build/sopgate
#   make test       unit tests (cmocka, one process each) + CLI golden cases
#   make asan       the whole suite under AddressSanitizer + UBSan (build-asan/)
#   make fuzz       libFuzzer targets (clang), each for FUZZ_SECONDS
#   make bench      the benchmarks under bench/
#   make clean
#
# Every module is a folder under src/. Its *.c files (minus *_test.c,
# *_test_util.c and *_fuzz.c) go into the program; each *_test.c is one test
# binary. A *_test_util.c holds fixtures shared by a module's tests: it is
# linked into the test binaries only (through $(BUILD)/libsgtest.a).

# `all` stays the default even though models.mk files are included first.
.DEFAULT_GOAL := all

CC      ?= cc
BUILD   ?= build
PKGS    := jansson libutf8proc libhs libcrypto yaml-0.1 sqlite3 libpq libcurl \
           libmicrohttpd libexttextcat libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -llinear -lm -lpthread

OPT     ?= -O2 -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) \
           -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS)

MODULES := $(sort $(dir $(wildcard src/*/)))
ALL_C   := $(wildcard src/*/*.c)
TEST_C  := $(filter-out src/cli/cmd_%,$(filter %_test.c,$(ALL_C)))
TUTIL_C := $(filter %_test_util.c,$(ALL_C))
FUZZ_C  := $(filter %_fuzz.c,$(ALL_C))
MAIN_C  := src/cli/main.c
LIB_C   := $(filter-out $(TEST_C) $(TUTIL_C) $(FUZZ_C) $(MAIN_C),$(ALL_C))

LIB_O   := $(LIB_C:%.c=$(BUILD)/%.o)
TEST_BIN:= $(patsubst src/%_test.c,$(BUILD)/tests/%_test,$(TEST_C))
LIBSG   := $(BUILD)/libsopgate.a
LIBSGT  := $(BUILD)/libsgtest.a

# Modules that need data built at build time (trained models, compiled rule
# caches) add rules in src/<module>/models.mk and append the outputs to
# MODELS; they land in $(BUILD)/data, which sopgate finds next to itself.
MODELS :=
-include $(wildcard src/*/models.mk)

all: $(BUILD)/sopgate $(MODELS)

# Quiet by default; `make V=1` shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBSG): $(LIB_O)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIBSGT): $(TUTIL_C:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(Q)ar rcs $@ $^

# The subcommand table, generated from the cmd_*.c file names.
CMD_NAMES := $(sort $(patsubst src/cli/cmd_%.c,%,$(wildcard src/cli/cmd_*.c)))
$(BUILD)/gen/cmds.h: $(wildcard src/cli/cmd_*.c) Makefile
	@mkdir -p $(dir $@)
	@printf '$(foreach c,$(CMD_NAMES),SG_CMD($(c))\n)' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
$(BUILD)/src/cli/main.o: $(BUILD)/gen/cmds.h
$(BUILD)/src/cli/main.o: CFLAGS += -I$(BUILD)/gen

$(BUILD)/sopgate: $(BUILD)/$(MAIN_C:.c=.o) $(LIBSG)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $(BUILD)/$(MAIN_C:.c=.o) $(LIBSG) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%_test: $(BUILD)/src/%_test.o $(LIBSGT) $(LIBSG)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIBSGT) $(LIBSG) $(LDFLAGS) $(LDLIBS) -lcmocka

# Each header must compile on its own (it includes what it needs).
HDRS := $(wildcard src/*/*.h)
$(BUILD)/hdrcheck/%.ok: src/%.h
	@mkdir -p $(dir $@)
	@printf '#include "%s"\n' $*.h | $(CC) $(CFLAGS) -MMD -MF $@.d -x c -fsyntax-only - && touch $@
headers: $(HDRS:src/%.h=$(BUILD)/hdrcheck/%.ok)

tests: headers $(TEST_BIN) $(BUILD)/sopgate $(MODELS)

test: tests
	@BUILD=$(BUILD) ./tests/run

# Sanitizer build: a separate tree so normal objects are not mixed in.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DSG_DEBUG_ARENA" \
	        LDFLAGS="-fsanitize=address,undefined" test

# Fuzz targets: clang + libFuzzer over the same sources. The instrumented
# library is built once, by one sub-make (parallel targets must not each run
# one: they would write the same archive at once); a target relinks when its
# source or the library is newer.
FUZZ_SECONDS ?= 30
FUZZ_BIN := $(patsubst src/%_fuzz.c,build-fuzz/fuzz/%_fuzz,$(FUZZ_C))
ifneq ($(BUILD),build-fuzz)
build-fuzz/libsopgate.a: $(LIB_C) $(wildcard src/*/*.h)
	$(MAKE) BUILD=build-fuzz CC=clang OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -DSG_DEBUG_ARENA" build-fuzz/libsopgate.a
endif
build-fuzz/fuzz/%_fuzz: src/%_fuzz.c build-fuzz/libsopgate.a
	@mkdir -p $(dir $@)
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g -Isrc $(PKG_CFLAGS) \
	      -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libsopgate.a $(LDLIBS)
fuzz: $(FUZZ_BIN)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz-run $(FUZZ_BIN)

bench: all
	@./bench/run

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: all test tests headers asan fuzz bench clean
.PRECIOUS: $(BUILD)/src/%.o
