/*
 * wc2sf.fcgi: the web-facing side of wc2sf. It turns a FastCGI or CGI
 * request into a struct webhook_request, hands it to lib/sync.c, and
 * writes the reply. Nothing else in wc2sf knows FastCGI exists.
 *
 * Three ways to run, one binary:
 *  - FastCGI on fd 0, when a manager hands it a listening socket
 *    (spawn-fcgi, systemd socket activation, Apache mod_fcgid);
 *  - FastCGI on its own socket with --listen unix:PATH or HOST:PORT;
 *  - plain CGI, when started with a CGI environment and no socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "log.h"
#include "result.h"
#include "sync.h"
#include "webhook.h"

#define WC2SF_VERSION "0.1.0"

/* Body size assumed when the configuration could not be read. */
#define FALLBACK_MAX_BODY (1024 * 1024)

struct responder {
	struct config cfg;
	bool config_ok;
	char config_err[512];
	struct sync *sync;
	char sync_err[512];
	unsigned char *body;		/* max_body + 1 bytes, reused */
	size_t body_cap;
};

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void
usage(FILE *out)
{
	fputs("usage: wc2sf.fcgi [--listen unix:PATH | HOST:PORT]\n"
	    "                  [--socket-mode MODE] [--config FILE]\n"
	    "                  [--version]\n"
	    "Receives WooCommerce webhooks over FastCGI or CGI and writes\n"
	    "them into Salesforce. The configuration comes from --config,\n"
	    "else "
	    "$WC2SF_CONFIG, else " CONFIG_DEFAULT_PATH ".\n"
	    "--socket-mode sets the mode of a unix socket (octal, default\n"
	    "0660: the web server's user must share wc2sf's group).\n", out);
}

/*
 * Load the configuration and open the worker's state. A worker whose
 * configuration is broken keeps running and answers 503 with the reason
 * in the log: a process that exits at once would only be respawned in a
 * loop by the web server, and the shop owner would see nothing.
 */
static void
responder_open(struct responder *r, const char *path)
{
	size_t cap = FALLBACK_MAX_BODY;

	memset(r, 0, sizeof(*r));
	if (config_load(&r->cfg, path, r->config_err,
	    sizeof(r->config_err)) == 0) {
		r->config_ok = true;
		log_init(NULL, r->cfg.log_level);
		if (r->cfg.log_file != NULL && log_open(r->cfg.log_file) != 0)
			log_error("event=log_open file=%s error=\"%s\"",
			    r->cfg.log_file, strerror(errno));
		cap = r->cfg.max_body;
		r->sync = sync_open(&r->cfg, r->sync_err,
		    sizeof(r->sync_err));
		if (r->sync == NULL)
			log_error("event=start error=\"%s\"", r->sync_err);
	} else {
		log_error("event=config error=\"%s\"", r->config_err);
	}
	r->body_cap = cap;
	r->body = malloc(cap + 1);
	if (r->body == NULL)
		r->body_cap = 0;
}

static void
responder_close(struct responder *r)
{
	if (r->sync != NULL)
		sync_close(r->sync);
	if (r->config_ok)
		config_free(&r->cfg);
	free(r->body);
}

/* Fill req from a NULL-ended "NAME=value" environment. */
static void
request_from_env(struct webhook_request *req, char **envp)
{
	char name[128];
	const char *eq;
	size_t n;

	memset(req, 0, sizeof(*req));
	req->content_length = -1;
	for (; envp != NULL && *envp != NULL; envp++) {
		eq = strchr(*envp, '=');
		if (eq == NULL)
			continue;
		n = (size_t)(eq - *envp);
		if (n >= sizeof(name))
			continue;
		memcpy(name, *envp, n);
		name[n] = '\0';
		if (strcmp(name, "REQUEST_METHOD") == 0)
			req->method = eq + 1;
		else
			webhook_set_header(req, name, eq + 1);
	}
}

/*
 * Read the body through read_fn, at most cap + 1 bytes so that a body
 * one byte over the limit is seen as too large. Returns the byte count.
 */
static size_t
read_body(unsigned char *buf, size_t cap,
    int (*read_fn)(void *ctx, unsigned char *p, int n), void *ctx)
{
	size_t got = 0;
	int n, want;

	while (got < cap + 1) {
		want = (cap + 1 - got) > 65536 ? 65536 : (int)(cap + 1 - got);
		n = read_fn(ctx, buf + got, want);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * The part common to FastCGI and CGI: check the size, read the body,
 * run the delivery path. reply is always filled.
 */
static void
handle(struct responder *r, struct webhook_request *req,
    int (*read_fn)(void *ctx, unsigned char *p, int n), void *ctx,
    struct sync_reply *reply)
{
	size_t got;

	if (r->body == NULL || (!r->config_ok || r->sync == NULL)) {
		memset(reply, 0, sizeof(*reply));
		reply->result = r->config_ok ? WC2SF_INTERNAL : WC2SF_CONFIG;
		if (r->body == NULL)
			reply->result = WC2SF_NO_MEMORY;
		reply->status = 503;
		snprintf(reply->body, sizeof(reply->body),
		    "{\"result\":\"%s\",\"error\":\"wc2sf is not configured "
		    "correctly; see the web server's error log\"}",
		    wc2sf_result_name(reply->result));
		log_error("event=request result=%s status=503 error=\"%s\"",
		    wc2sf_result_name(reply->result),
		    r->config_ok ? r->sync_err : r->config_err);
		return;
	}
	if (req->content_length > 0 &&
	    (size_t)req->content_length > r->body_cap) {
		/* Do not read what will be refused anyway. */
		req->body = r->body;
		req->body_len = r->body_cap + 1;
	} else {
		got = read_body(r->body, r->body_cap, read_fn, ctx);
		req->body = r->body;
		req->body_len = got;
	}
	sync_handle(r->sync, req, reply);
}

static int
fcgx_read(void *ctx, unsigned char *p, int n)
{
	return FCGX_GetStr((char *)p, n, (FCGX_Stream *)ctx);
}

static int
stdin_read(void *ctx, unsigned char *p, int n)
{
	ssize_t got;

	(void)ctx;
	do
		got = read(STDIN_FILENO, p, (size_t)n);
	while (got < 0 && errno == EINTR);
	return (int)got;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static int
serve_fastcgi(struct responder *r, int fd)
{
	FCGX_Request fr;
	struct webhook_request req;
	struct sync_reply reply;
	char head[160];
	int n;

	if (FCGX_InitRequest(&fr, fd, 0) != 0) {
		log_error("event=fcgi_init error=\"FCGX_InitRequest failed\"");
		return 1;
	}
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		request_from_env(&req, fr.envp);
		handle(r, &req, fcgx_read, fr.in, &reply);
		/* libfcgi's own printf knows no %zu: format here. */
		n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
		    "Content-Type: application/json\r\n"
		    "Cache-Control: no-store\r\n"
		    "Content-Length: %zu\r\n\r\n", reply.status,
		    status_text(reply.status), strlen(reply.body));
		FCGX_PutStr(head, n, fr.out);
		FCGX_PutS(reply.body, fr.out);
		FCGX_Finish_r(&fr);
		/* The reply is out: now spend a bounded time on retries. */
		if (r->sync != NULL && r->cfg.drain_seconds > 0 && !stopping)
			sync_drain(r->sync, (double)r->cfg.drain_seconds,
			    NULL);
	}
	FCGX_Free(&fr, 1);
	return 0;
}

static int
serve_cgi(struct responder *r)
{
	extern char **environ;
	struct webhook_request req;
	struct sync_reply reply;
	char head[128];
	int n;

	request_from_env(&req, environ);
	handle(r, &req, stdin_read, NULL, &reply);
	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n\r\n", reply.status,
	    status_text(reply.status));
	fwrite(head, 1, (size_t)n, stdout);
	fputs(reply.body, stdout);
	fflush(stdout);
	/* Plain CGI has no life after the reply; drain before exiting. */
	if (r->sync != NULL && r->cfg.drain_seconds > 0) {
		fclose(stdout);
		sync_drain(r->sync, (double)r->cfg.drain_seconds,
			    NULL);
	}
	return 0;
}

/*
 * "unix:/run/x.sock" -> "/run/x.sock"; "127.0.0.1:9000" stays. A unix
 * socket gets mode (the web server must be able to write to it; the
 * process umask would make it private).
 */
static int
open_listener(const char *spec, mode_t mode)
{
	const char *path = spec;
	int fd;

	if (strncmp(spec, "unix:", 5) == 0) {
		path = spec + 5;
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("event=listen path=%s error=\"%s\"", path,
			    strerror(errno));
	}
	fd = FCGX_OpenSocket(path, 64);
	if (fd < 0) {
		log_error("event=listen spec=%s error=\"cannot listen\"",
		    spec);
		return -1;
	}
	if (path != spec && chmod(path, mode) != 0)
		log_warn("event=listen path=%s error=\"chmod: %s\"", path,
		    strerror(errno));
	return fd;
}

int
main(int argc, char **argv)
{
	struct responder r;
	const char *listen_spec = NULL;
	const char *config_path = NULL;
	mode_t socket_mode = 0660;
	struct sigaction sa;
	char *end;
	int fd = 0, i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_spec = argv[++i];
		} else if (strcmp(argv[i], "--socket-mode") == 0 &&
		    i + 1 < argc) {
			socket_mode = (mode_t)strtoul(argv[++i], &end, 8);
			if (*end != '\0' || socket_mode > 0777) {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("wc2sf.fcgi " WC2SF_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	log_init("wc2sf.fcgi", LOG_LEVEL_INFO);
	if (config_path == NULL)
		config_path = config_default_path();
	umask(077);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (FCGX_Init() != 0) {
		log_error("event=fcgi_init error=\"FCGX_Init failed\"");
		return 1;
	}
	if (listen_spec != NULL) {
		fd = open_listener(listen_spec, socket_mode);
		if (fd < 0)
			return 1;
	}
	responder_open(&r, config_path);
	if (listen_spec == NULL && FCGX_IsCGI())
		rc = serve_cgi(&r);
	else
		rc = serve_fastcgi(&r, fd);
	responder_close(&r);
	return rc;
}
