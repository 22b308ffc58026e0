# libFuzzer targets (clang's -fsanitize=fuzzer, from libclang-rt-14-dev
# on Debian 12), built with AddressSanitizer and UndefinedBehavior-
# Sanitizer into $(BUILD)/fuzz. fuzz/README.md says what each target
# reads and checks.
#
#   make fuzz                   every target FUZZ_SECONDS (default 30),
#                               FUZZ_JOBS at a time (default 2)
#   make fuzz FUZZ_SECONDS=600  the ten-minute run
#   make fuzz FUZZ_TARGETS=fuzz_text
#   make fuzz-build             build only
#   make fuzz-replay            replay the seeds and fuzz/regressions/
#
# make check replays the regressions and runs each target briefly.

FUZZ_CC      ?= clang
FUZZ_BUILD    = $(BUILD)/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_TARGETS ?= $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BIN      = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_SECONDS ?= 30
FUZZ_JOBS    ?= 2

.PHONY: fuzz fuzz-build fuzz-replay fuzz-lib

# The library once more, with coverage for libFuzzer and the sanitizers;
# CFLAGS from the environment as in mk/sanitize.mk.
fuzz-lib:
	@scripts/deps.sh build fuzz
	CFLAGS='-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link' \
	    $(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) CI= \
	    $(FUZZ_BUILD)/libwc2sf.a

fuzz-build: fuzz-lib
	$(MAKE) $(FUZZ_BIN)

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/common.c fuzz/common.h \
    $(FUZZ_BUILD)/libwc2sf.a
	$(FUZZ_CC) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -std=c11 \
	    -D_GNU_SOURCE $(WARN) -Ilib -Ifuzz $(PKG_CFLAGS) -o $@ $< \
	    fuzz/common.c $(FUZZ_BUILD)/libwc2sf.a $(PKG_LIBS)

fuzz: fuzz-build
	python3 fuzz/run.py --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) \
	    --jobs $(FUZZ_JOBS) $(FUZZ_TARGETS)

fuzz-replay: fuzz-build
	python3 fuzz/run.py --build $(FUZZ_BUILD) --replay-only \
	    $(FUZZ_TARGETS)
