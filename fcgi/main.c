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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netdb.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "log.h"
#include "result.h"
#include "sync.h"
#include "version.h"
#include "webhook.h"

#define LISTEN_BACKLOG 64

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

static void usage(FILE *out);

/* A usage mistake: say which word was wrong, then the usage. */
static int
usage_error(const char *what, const char *arg)
{
	fputs("wc2sf.fcgi: ", stderr);
	fputs(what, stderr);
	fputs(": ", stderr);
	fputs(arg, stderr);
	fputs("\n", stderr);
	usage(stderr);
	return 2;
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
	size_t got = 0;

	if (r->body != NULL && req->content_length > 0 &&
	    (size_t)req->content_length > r->body_cap) {
		/* Do not read what will be refused anyway. */
		got = r->body_cap + 1;
	} else if (r->body != NULL) {
		got = read_body(r->body, r->body_cap, read_fn, ctx);
	}
	req->body = r->body;
	req->body_len = got;
	if (r->config_ok && r->sync != NULL) {
		sync_handle(r->sync, req, reply);
		return;
	}
	memset(reply, 0, sizeof(*reply));
	/*
	 * WooCommerce's URL check needs nothing of the configuration: a
	 * webhook saved while the config is being fixed still goes active.
	 */
	if (r->body != NULL && req->method != NULL &&
	    strcmp(req->method, "POST") == 0 && got <= r->body_cap &&
	    webhook_is_ping(req)) {
		reply->result = WC2SF_PING;
		reply->status = 200;
		snprintf(reply->body, sizeof(reply->body),
		    "{\"result\":\"ping\"}");
		log_warn("event=request result=ping status=200 error=\"%s\"",
		    "answered without a working configuration");
		return;
	}
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
		if (r->sync != NULL)
			sync_checkpoint(r->sync);
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

/* A unix socket someone still accepts on: never take it over. */
static bool
socket_alive(const struct sockaddr_un *sun)
{
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	return rc == 0;
}

static int
listen_unix(const char *path, mode_t mode)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		log_error("event=listen path=%s error=\"a socket path must be "
		    "absolute and under %zu bytes\"", path,
		    sizeof(sun.sun_path));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (socket_alive(&sun)) {
		log_error("event=listen path=%s error=\"another process "
		    "serves this socket\"", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		log_error("event=listen path=%s error=\"unlink: %s\"", path,
		    strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, mode) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		log_error("event=listen path=%s error=\"%s\"", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* "HOST:PORT", with a numeric port and a host getaddrinfo() knows. */
static int
listen_tcp(const char *spec)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *colon;
	int fd = -1, on = 1, rc;

	colon = strrchr(spec, ':');
	if (colon == NULL || colon == spec || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    (size_t)(colon - spec) >= sizeof(host)) {
		log_error("event=listen spec=%s error=\"expected unix:/PATH "
		    "or HOST:PORT\"", spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0) {
		log_error("event=listen spec=%s error=\"%s\"", spec,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		log_error("event=listen spec=%s error=\"%s\"", spec,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * --listen: "unix:/run/wc2sf.sock" (given mode: the web server must be
 * able to write to it, which the process umask would forbid) or
 * "127.0.0.1:9000". Our own sockets rather than FCGX_OpenSocket(), which
 * exits the process on a bind error and takes over live sockets.
 */
static int
open_listener(const char *spec, mode_t mode)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, mode);
	return listen_tcp(spec);
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
			if (*end != '\0' || end == argv[i] ||
			    socket_mode > 0777)
				return usage_error("--socket-mode wants "
				    "an octal mode such as 0660", argv[i]);
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			version_print(stdout, "wc2sf.fcgi");
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			return usage_error("unknown option or missing value",
			    argv[i]);
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
	if (listen_spec != NULL && strncmp(listen_spec, "unix:", 5) == 0)
		unlink(listen_spec + 5);
	return rc;
}
