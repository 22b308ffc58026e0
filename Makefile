# wc2sf: WooCommerce webhooks into Salesforce.
# Plain GNU make; dependencies come from pkg-config (see scripts/deps.sh).

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
# make LEAN=1: the same program linked with a lean, static libcurl, in
# $(BUILD)/lean (mk/lean.mk).
ifneq ($(LEAN),)
override BUILD := $(BUILD)/lean
endif
PKGS      = fcgi libcurl json-c openssl sqlite3 inih

WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wpointer-arith -Wcast-qual -Wwrite-strings \
            -Wundef -Wvla -Wno-unused-parameter
ifneq ($(CI),)
WARN     += -Werror
endif
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) -Ilib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

LIB_SRC   = $(wildcard lib/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC   = $(wildcard cli/*.c)
CLI_OBJ   = $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit integration demo install clean style

all: $(BUILD)/wc2sf.fcgi $(BUILD)/wc2sf

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/libwc2sf.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/wc2sf.fcgi: $(BUILD)/fcgi/main.o $(BUILD)/libwc2sf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/wc2sf: $(CLI_OBJ) $(BUILD)/libwc2sf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libwc2sf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags cmocka) \
	    -o $@ $< $(BUILD)/libwc2sf.a $(PKG_LIBS) \
	    $(shell pkg-config --libs cmocka)

# Every suite runs; tests/run_all.py prints the one "N passed, N failed"
# line over all of them and fails if any test failed.
check: deps
	$(MAKE) all $(UNIT_BIN)
	$(MAKE) asan fuzz-build
	$(MAKE) lean
	python3 tests/run_all.py --build $(BUILD) --asan-build $(ASAN_BUILD) \
	    --lean-build $(BUILD)/lean --lean-match '$(LEAN_TESTS)' \
	    --valgrind '$(VALGRIND)' --valgrind-match '$(VALGRIND_TESTS)' \
	    --fuzz-build $(FUZZ_BUILD) --fuzz-seconds $(FUZZ_SECONDS) \
	    --fuzz-jobs $(FUZZ_JOBS) $(UNIT_BIN)

unit: deps
	$(MAKE) all $(UNIT_BIN)
	python3 tests/run_all.py --build $(BUILD) --unit-only $(UNIT_BIN)

integration: deps
	$(MAKE) all
	python3 tests/run_all.py --build $(BUILD) --integration-only

demo: deps
	$(MAKE) all
	python3 tests/demo.py --build $(BUILD)

style:
	@python3 tests/checksrc.py fcgi lib cli

clean:
	rm -rf $(BUILD)

# Sanitizer, fuzz and benchmark targets live beside this file, one
# fragment each.
-include $(wildcard mk/*.mk)
