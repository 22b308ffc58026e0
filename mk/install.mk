# make install: wc2sf's files in their usual places under PREFIX
# (/usr/local unless given), staged under DESTDIR for a package. Each
# directory can be moved on its own (make install SYSTEMDUNITDIR=...).
#
#   $(BINDIR)/wc2sf                      the command for people
#   $(SBINDIR)/wc2sf.fcgi                the FastCGI/CGI responder
#   $(SYSTEMDUNITDIR)/wc2sf.socket, wc2sf.service,
#                     wc2sf-replay.service, wc2sf-replay.timer
#   $(MANDIR)/man1/wc2sf.1, man5/wc2sf.conf.5, man8/wc2sf.fcgi.8
#   $(DOCDIR)/                           README, docs/, the web server
#                                        examples, wc2sf.conf.sample
#   $(SFDIR)/                            salesforce/: the custom fields
#                                        and permission set to deploy
#                                        to the org (wc2sf check asks
#                                        for it)
#   $(SYSCONFDIR)/wc2sf/wc2sf.conf       the sample, mode 0600, only
#                                        when there is none yet
#
# The units and examples name /usr/local/sbin, /usr/local/bin and
# /etc/wc2sf; they are installed with the real directories instead.
# Nothing is started, enabled or chowned here: the docs/ pages say what
# to run next. `make uninstall` removes what install put there, except
# the configuration file.

BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
DATADIR        ?= $(PREFIX)/share
MANDIR         ?= $(DATADIR)/man
DOCDIR         ?= $(DATADIR)/doc/wc2sf
SFDIR          ?= $(DATADIR)/wc2sf/salesforce
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL        ?= install

INSTALL_UNITS  = wc2sf.socket wc2sf.service wc2sf-replay.service \
                 wc2sf-replay.timer
INSTALL_MAN    = man1/wc2sf.1 man5/wc2sf.conf.5 man8/wc2sf.fcgi.8
INSTALL_DOCS   = $(wildcard docs/*.md)
INSTALL_APACHE = apache-conf/README.md apache-conf/wc2sf-fcgid.conf \
                 apache-conf/wc2sf-proxy-fcgi.conf
INSTALL_SHARED = apache-conf/shared-hosting/cgi.htaccess \
                 apache-conf/shared-hosting/fcgid.htaccess
INSTALL_NGINX  = nginx-conf/README.md nginx-conf/wc2sf.conf
# salesforce/ as it is, every file; paths relative to salesforce/.
INSTALL_SF     = $(patsubst salesforce/%,%,$(shell find salesforce \
                 -type f ! -name '.*' 2>/dev/null | LC_ALL=C sort))

INSTALL_PATHS  = -e 's|/usr/local/sbin/|$(SBINDIR)/|g' \
                 -e 's|/usr/local/bin/|$(BINDIR)/|g' \
                 -e 's|/etc/wc2sf/|$(SYSCONFDIR)/wc2sf/|g'
INSTALL_CONF   = $(DESTDIR)$(SYSCONFDIR)/wc2sf/wc2sf.conf

.PHONY: install uninstall

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0755 $(BUILD)/wc2sf $(DESTDIR)$(BINDIR)/wc2sf
	$(INSTALL) -m 0755 $(BUILD)/wc2sf.fcgi $(DESTDIR)$(SBINDIR)/wc2sf.fcgi
	$(INSTALL) -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(INSTALL_UNITS); do \
		sed $(INSTALL_PATHS) systemd/$$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u \
		    && chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	for m in $(INSTALL_MAN); do \
		$(INSTALL) -m 0644 man/$${m#*/} $(DESTDIR)$(MANDIR)/$$m \
		    || exit 1; \
	done
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)/docs \
	    $(DESTDIR)$(DOCDIR)/apache-conf/shared-hosting \
	    $(DESTDIR)$(DOCDIR)/nginx-conf
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(INSTALL) -m 0644 wc2sf.conf.sample \
	    $(DESTDIR)$(DOCDIR)/wc2sf.conf.sample
	for f in $(INSTALL_DOCS) $(INSTALL_APACHE) $(INSTALL_SHARED) \
	    $(INSTALL_NGINX); do \
		sed $(INSTALL_PATHS) $$f > $(DESTDIR)$(DOCDIR)/$$f \
		    && chmod 0644 $(DESTDIR)$(DOCDIR)/$$f || exit 1; \
	done
	$(INSTALL) -m 0755 apache-conf/shared-hosting/hook-fcgid.sh \
	    $(DESTDIR)$(DOCDIR)/apache-conf/shared-hosting/hook-fcgid.sh
	for f in $(INSTALL_SF); do \
		$(INSTALL) -d $(DESTDIR)$(SFDIR)/$$(dirname $$f) \
		    && $(INSTALL) -m 0644 salesforce/$$f \
		    $(DESTDIR)$(SFDIR)/$$f || exit 1; \
	done
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/wc2sf
	@if [ -e $(INSTALL_CONF) ]; then \
		echo "kept $(INSTALL_CONF)"; \
	else \
		echo "$(INSTALL) -m 0600 wc2sf.conf.sample $(INSTALL_CONF)"; \
		$(INSTALL) -m 0600 wc2sf.conf.sample $(INSTALL_CONF); \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wc2sf $(DESTDIR)$(SBINDIR)/wc2sf.fcgi
	for u in $(INSTALL_UNITS); do \
		rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$$u; \
	done
	for m in $(INSTALL_MAN); do rm -f $(DESTDIR)$(MANDIR)/$$m; done
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SFDIR)
	rmdir $(DESTDIR)$(DATADIR)/wc2sf 2>/dev/null || true
	@echo "kept $(INSTALL_CONF)"
