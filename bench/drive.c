/*
 * The in-process half of `make bench`: one worker's delivery path without
 * FastCGI, for counting instructions under valgrind --tool=callgrind.
 *
 *   WC2SF_CONFIG=bench.conf drive FILE PRELUDE COUNT
 *
 * FILE holds signed deliveries, each a line "topic signature length\n"
 * followed by length body bytes and a newline. The first PRELUDE are
 * sent to warm the worker up (sign-in, price book, the products orders
 * use); then COUNT more. Each goes through sync_handle() and then
 * sync_drain(), as wc2sf.fcgi does after every reply, against whatever
 * Salesforce the configuration names (the bench's stand-in).
 *
 * The whole file is read before the first delivery, so a run of N and a
 * run of 2N deliveries share every setup cost and the difference of
 * their instruction counts is the cost of N deliveries. Exits 0 when
 * every delivery after the prelude was synced, 1 otherwise (the reason
 * goes to the log configured in FILE's [log] section, else stderr).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "sync.h"
#include "webhook.h"

#define DRIVE_FILE_MAX	(512L * 1024 * 1024)
#define TOPIC_MAX	64

/* One delivery of FILE; strings point into the file's buffer. */
struct delivery {
	char topic[TOPIC_MAX];
	char resource[TOPIC_MAX];
	char event[TOPIC_MAX];
	char signature[64];
	const unsigned char *body;
	size_t len;
};

struct deliveries {
	unsigned char *data;		/* the whole file */
	size_t n;
	struct delivery *list;
};

/* Read all of path into a malloc'd buffer; NULL on any error. */
static unsigned char *
read_file(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	FILE *f;
	long size;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    size > DRIVE_FILE_MAX || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((buf = malloc((size_t)size + 1)) == NULL)
		goto out;
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[size] = '\0';
	*len = (size_t)size;
out:
	fclose(f);
	return buf;
}

/*
 * Split one header line "topic signature length" at p into d; returns
 * the offset just past the body's trailing newline, or 0 when the
 * record is malformed or runs past end.
 */
static size_t
parse_record(const unsigned char *data, size_t off, size_t end,
    struct delivery *d)
{
	const char *line = (const char *)data + off;
	const char *nl, *dot;
	char *stop;
	unsigned long len;
	int used = 0;

	nl = memchr(line, '\n', end - off);
	if (nl == NULL || sscanf(line, "%63s %63s %n", d->topic,
	    d->signature, &used) != 2 || used == 0)
		return 0;
	errno = 0;
	len = strtoul(line + used, &stop, 10);
	if (errno != 0 || stop != nl)
		return 0;
	off = (size_t)(nl - (const char *)data) + 1;
	if (len > end - off || end - off - len < 1)
		return 0;
	dot = strchr(d->topic, '.');
	if (dot == NULL)
		return 0;
	snprintf(d->resource, sizeof(d->resource), "%.*s",
	    (int)(dot - d->topic), d->topic);
	snprintf(d->event, sizeof(d->event), "%s", dot + 1);
	d->body = data + off;
	d->len = len;
	return off + len + 1;
}

static int
load(const char *path, struct deliveries *all)
{
	struct delivery *list;
	size_t len = 0, off = 0, next, cap = 0;

	memset(all, 0, sizeof(*all));
	if ((all->data = read_file(path, &len)) == NULL) {
		log_error("event=drive_read file=%s error=\"cannot read\"",
		    path);
		return -1;
	}
	while (off < len) {
		if (all->n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			list = realloc(all->list, cap * sizeof(*list));
			if (list == NULL)
				return -1;
			all->list = list;
		}
		next = parse_record(all->data, off, len, &all->list[all->n]);
		if (next == 0) {
			log_error("event=drive_read file=%s offset=%zu "
			    "error=\"malformed record\"", path, off);
			return -1;
		}
		all->n++;
		off = next;
	}
	return 0;
}

/* One delivery as nginx would hand it over, then the worker's drain. */
static bool
deliver(struct sync *s, const struct config *cfg, const struct delivery *d,
    size_t seq)
{
	struct webhook_request req;
	struct sync_reply reply;
	char delivery_id[40];

	memset(&req, 0, sizeof(req));
	snprintf(delivery_id, sizeof(delivery_id), "bench-%zu", seq);
	req.method = "POST";
	req.content_type = "application/json";
	req.content_length = (long)d->len;
	req.topic = d->topic;
	req.resource = d->resource;
	req.event = d->event;
	req.signature = d->signature;
	req.webhook_id = "1";
	req.delivery_id = delivery_id;
	req.source = "http://shop.example.test/";
	req.body = d->body;
	req.body_len = d->len;
	sync_handle(s, &req, &reply);
	if (cfg->drain_seconds > 0)
		sync_drain(s, (double)cfg->drain_seconds, NULL);
	if (reply.result != WC2SF_OK) {
		log_error("event=drive_delivery seq=%zu topic=%s status=%d "
		    "reply=%s", seq, d->topic, reply.status, reply.body);
		return false;
	}
	return true;
}

static bool
count_arg(const char *s, size_t *n)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	*n = (size_t)v;
	return true;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct deliveries all;
	struct sync *s = NULL;
	char err[512];
	size_t prelude, count, i;
	int status = 1;
	bool cfg_loaded = false;

	memset(&all, 0, sizeof(all));
	log_init("wc2sf-drive", LOG_LEVEL_INFO);
	if (argc != 4 || !count_arg(argv[2], &prelude) ||
	    !count_arg(argv[3], &count)) {
		log_error("event=usage text=\"drive FILE PRELUDE COUNT\"");
		goto out;
	}
	if (config_load(&cfg, config_default_path(), err, sizeof(err)) != 0) {
		log_error("event=config error=\"%s\"", err);
		goto out;
	}
	cfg_loaded = true;
	log_init(NULL, cfg.log_level);
	if (cfg.log_file != NULL && log_open(cfg.log_file) != 0)
		log_error("event=log_open file=%s", cfg.log_file);
	if (load(argv[1], &all) != 0)
		goto out;
	if (prelude + count > all.n) {
		log_error("event=drive_read file=%s have=%zu want=%zu",
		    argv[1], all.n, prelude + count);
		goto out;
	}
	if ((s = sync_open(&cfg, err, sizeof(err))) == NULL) {
		log_error("event=start error=\"%s\"", err);
		goto out;
	}
	for (i = 0; i < prelude; i++)
		(void)deliver(s, &cfg, &all.list[i], i);
	status = 0;
	for (i = prelude; i < prelude + count; i++)
		if (!deliver(s, &cfg, &all.list[i], i))
			status = 1;
out:
	sync_close(s);
	if (cfg_loaded)
		config_free(&cfg);
	free(all.list);
	free(all.data);
	return status;
}
