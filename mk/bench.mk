# make bench: wc2sf against the ceiling of its web server, on this
# machine. A benchmark, never a test: it is not part of make check.
# bench/README.md explains the figures; bench/run.py --help the knobs,
# which BENCH_FLAGS passes on (e.g. make bench BENCH_FLAGS=--quick).

BENCH_BIN = $(BUILD)/bench/null_fcgi $(BUILD)/bench/drive
BENCH_FLAGS ?=

.PHONY: bench bench-bin

bench: deps
	$(MAKE) all bench-bin
	$(MAKE) lean
	python3 bench/run.py --build $(BUILD) --lean-build $(BUILD)/lean \
	    $(BENCH_FLAGS)

bench-bin: $(BENCH_BIN)

# The ceiling's responder needs only libfcgi.
$(BUILD)/bench/null_fcgi: bench/null_fcgi.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LDFLAGS) $(PKG_LIBS)

# The in-process driver links the same library as wc2sf.fcgi.
$(BUILD)/bench/drive: bench/drive.c $(BUILD)/libwc2sf.a $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libwc2sf.a \
	    $(LDFLAGS) $(PKG_LIBS)
