# The lean build: wc2sf linked statically with every library but the C
# library's, and with a libcurl that speaks only HTTP and HTTPS
# (scripts/lean-curl.sh builds it from Debian's source package of the
# installed libcurl, with Debian's patches). OpenSSL, SQLite, json-c,
# libfcgi, inih and zlib are the static archives of Debian's -dev
# packages. A worker then maps the one binary, libc, libm and the loader
# instead of 37 libraries, and peaks under 9 MiB instead of 14; see
# bench/README.md, "Memory". The price: apt's security updates of those
# libraries reach a lean build only when `make lean` runs again (it
# relinks when one of those packages' version changed, rebuilds libcurl
# when its version did) and the result is installed again. `--version`
# prints the Debian versions a lean build carries.
#
#   make lean                  build/lean/wc2sf.fcgi and build/lean/wc2sf
#   sudo make install LEAN=1   install those
#
# make check runs the integration tests (those matching LEAN_TESTS, all
# by default) once more on the lean build, beside the other suites.

LEAN_TESTS ?= .

.PHONY: lean lean-curl-always

# Fails if the link took a shared library other than the C library's.
LEAN_NEEDED = libc.so.6 libm.so.6 ld-linux-x86-64.so.2 libpthread.so.0 \
              libdl.so.2
# (with LEAN=1 on the command line too, BUILD already ends in /lean)
LEAN_DIR = $(if $(LEAN),$(BUILD),$(BUILD)/lean)
lean:
	@scripts/deps.sh build lean
	$(MAKE) LEAN=1 all
	@for b in $(LEAN_DIR)/wc2sf.fcgi $(LEAN_DIR)/wc2sf; do \
	    dyn=$$(readelf -d $$b) || exit 1; \
	    for n in $$(echo "$$dyn" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do \
	        case " $(LEAN_NEEDED) " in *" $$n "*) ;; \
	        *) echo "$$b: linked with the shared $$n" >&2; exit 1;; esac; \
	    done; \
	done

ifneq ($(LEAN),)
LEAN_CURL = $(BUILD)/curl
# (make 4.3 passes no exported variable to $(shell): hence the prefix)
LEAN_PC    = PKG_CONFIG_PATH=$(abspath $(LEAN_CURL))/lib/pkgconfig pkg-config
PKG_CFLAGS = $(shell $(LEAN_PC) --cflags $(PKGS) 2>/dev/null) \
             -DWC2SF_LEAN -I$(BUILD)
# Static archives for all but the C library's parts (libm, libdl,
# libpthread): those stay the system's, as glibc wants.
LEAN_LIBC  = -lm -ldl -lpthread -pthread -lrt
PKG_LIBS   = -Wl,-Bstatic \
             $(filter-out $(LEAN_LIBC),$(shell $(LEAN_PC) --static --libs $(PKGS))) \
             -Wl,-Bdynamic -lm -ldl -lpthread
# The Debian packages of the archives linked in. Their versions and
# libcurl's go into lean_built.h, which changes, and the binaries
# relink, when one of them changed (scripts/lean-built.sh).
LEAN_PKGS  = libssl-dev libsqlite3-dev libjson-c-dev libfcgi-dev \
             libinih-dev zlib1g-dev
LEAN_BUILT = $(BUILD)/lean_built.h

# The script decides whether anything is to be done (a no-op when the
# version built is the one installed); the binaries relink when it
# rebuilt libcurl.a, the objects wait for its headers.
$(LEAN_CURL)/lib/libcurl.a: lean-curl-always
	@scripts/lean-curl.sh $(LEAN_CURL)
lean-curl-always:
$(LIB_OBJ) $(CLI_OBJ) $(BUILD)/fcgi/main.o: | $(LEAN_CURL)/lib/libcurl.a
$(BUILD)/wc2sf.fcgi $(BUILD)/wc2sf: $(LEAN_CURL)/lib/libcurl.a
$(LEAN_BUILT): $(LEAN_CURL)/lib/libcurl.a lean-curl-always
	@scripts/lean-built.sh $@ $(LEAN_CURL)/version $(LEAN_PKGS)
$(BUILD)/lib/version.o: $(LEAN_BUILT)
endif
