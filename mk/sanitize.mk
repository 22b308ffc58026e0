# The same program built with AddressSanitizer and UndefinedBehavior-
# Sanitizer (clang), into $(BUILD)/asan, for make check: the unit tests
# and the integration tests run a second time on it. The first report
# stops the program (-fno-sanitize-recover=all), so a finding cannot
# scroll by unseen. Valgrind needs no build of its own: make check runs
# the integration tests once more on the plain build, the worker started
# under memcheck (VALGRIND below) through the harness's WC2SF_WRAP.
#
#   make asan            build $(BUILD)/asan/wc2sf.fcgi and its tests
#   make asan-check      run the unit and integration tests on it
#   make valgrind-check  run the integration subset under memcheck

SAN_CC      ?= clang
SAN_FLAGS    = -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
ASAN_BUILD   = $(BUILD)/asan
ASAN_UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(ASAN_BUILD)/tests/%)

# memcheck for the worker; a definite leak counts as an error. The
# suppressions are for findings in libraries wc2sf uses (each says why).
VALGRIND     = valgrind --error-exitcode=99 --leak-check=full \
               --errors-for-leak-kinds=definite --show-leak-kinds=definite \
               --num-callers=30 --suppressions=$(CURDIR)/mk/valgrind.supp
# The integration tests run under memcheck: a regex over test ids
# (module.Class.test). Customers, the whole shop's orders in order, and
# the bad input table; the rest would take minutes more.
VALGRIND_TESTS ?= ^(test_nginx_customers|test_bad_input|test_shop_state\.ShopInOrder)\.

.PHONY: asan asan-check valgrind-check

# CFLAGS and LDFLAGS come from the environment, so the Makefile's own
# "CFLAGS +=" still adds the standard, warnings and include path. The
# warnings gate (CI=1 -Werror) is the plain build's; clang's warnings
# are shown here but do not stop the sanitizer run.
asan: deps
	CFLAGS='-O1 -g $(SAN_FLAGS)' LDFLAGS='$(SAN_FLAGS)' \
	    $(MAKE) BUILD=$(ASAN_BUILD) CC=$(SAN_CC) CI= all $(ASAN_UNIT_BIN)

asan-check: asan
	python3 tests/run_all.py --build $(ASAN_BUILD) --sanitized \
	    $(ASAN_UNIT_BIN)

valgrind-check: deps
	$(MAKE) all
	python3 tests/run_all.py --build $(BUILD) --integration-only \
	    --wrap '$(VALGRIND)' --match '$(VALGRIND_TESTS)'
