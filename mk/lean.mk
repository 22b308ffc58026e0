# The lean build: wc2sf linked with a static libcurl that speaks only
# HTTP and HTTPS (scripts/lean-curl.sh builds it from Debian's source
# package of the installed libcurl, with Debian's patches). A worker
# then maps 10 libraries instead of 37 (of the 28 Debian's libcurl
# brings along, only libssl and zlib stay) and peaks at about 10 MiB
# instead of 14; see bench/README.md, "Memory". OpenSSL, SQLite and the rest stay Debian's
# shared libraries, so their security updates apply as usual; libcurl's
# need a `make lean` after apt upgraded it.
#
#   make lean                  build/lean/wc2sf.fcgi and build/lean/wc2sf
#   sudo make install LEAN=1   install those
#
# make check runs the integration tests (those matching LEAN_TESTS, all
# by default) once more on the lean build, beside the other suites.

LEAN_TESTS ?= .

.PHONY: lean lean-curl-always

# Fails if the link took Debian's libcurl after all.
lean:
	$(MAKE) LEAN=1 all
	@for b in $(BUILD)/lean/wc2sf.fcgi $(BUILD)/lean/wc2sf; do \
	    if readelf -d $$b | grep -q 'NEEDED.*libcurl'; then \
	        echo "$$b: linked with the shared libcurl" >&2; exit 1; \
	    fi; \
	done

ifneq ($(LEAN),)
LEAN_CURL = $(BUILD)/curl
# (make 4.3 passes no exported variable to $(shell): hence the prefix)
LEAN_PC    = PKG_CONFIG_PATH=$(abspath $(LEAN_CURL))/lib/pkgconfig pkg-config
PKG_CFLAGS = $(shell $(LEAN_PC) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(LEAN_PC) --static --libs libcurl) \
             $(shell $(LEAN_PC) --libs $(filter-out libcurl,$(PKGS)))

# The script decides whether anything is to be done (a no-op when the
# version built is the one installed); the binaries relink when it
# rebuilt libcurl.a, the objects wait for its headers.
$(LEAN_CURL)/lib/libcurl.a: lean-curl-always
	@scripts/lean-curl.sh $(LEAN_CURL)
lean-curl-always:
$(LIB_OBJ) $(CLI_OBJ) $(BUILD)/fcgi/main.o: | $(LEAN_CURL)/lib/libcurl.a
$(BUILD)/wc2sf.fcgi $(BUILD)/wc2sf: $(LEAN_CURL)/lib/libcurl.a
endif
