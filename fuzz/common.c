/*
 * Helpers shared by the fuzz targets: quiet logs, a private scratch
 * directory, a port nothing answers on. See common.h.
 */
#include "common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static char scratch[256];

void
fuzz_fail(const char *what, const char *file, int line)
{
	char msg[512];
	int n;

	n = snprintf(msg, sizeof(msg), "fuzz check failed at %s:%d: %s\n",
	    file, line, what);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ?
		    (size_t)n : sizeof(msg) - 1);
	abort();
}

void
fuzz_quiet_logs(void)
{
	log_init("fuzz", LOG_LEVEL_ERROR);
	(void)log_open("/dev/null");
}

/* Remove the scratch directory and the files in it (no subdirectories). */
static void
remove_scratch(void)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if (scratch[0] == '\0' || (d = opendir(scratch)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(scratch);
}

bool
fuzz_tmpdir(char *out, size_t size)
{
	const char *bases[3];
	size_t i;

	bases[0] = "/dev/shm";
	bases[1] = getenv("TMPDIR");
	bases[2] = "/tmp";
	for (i = 0; i < 3; i++) {
		if (bases[i] == NULL || access(bases[i], W_OK) != 0)
			continue;
		snprintf(scratch, sizeof(scratch), "%s/wc2sf-fuzz-XXXXXX",
		    bases[i]);
		if (mkdtemp(scratch) != NULL) {
			atexit(remove_scratch);
			snprintf(out, size, "%s", scratch);
			return true;
		}
	}
	scratch[0] = '\0';
	return false;
}

bool
fuzz_write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return false;
	while (len > 0) {
		n = write(fd, p, len);
		if (n <= 0) {
			close(fd);
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd) == 0;
}

char *
fuzz_strndup(const unsigned char *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		if (len > 0)
			memcpy(s, data, len);
		s[len] = '\0';
	}
	return s;
}

/*
 * A socket bound but never listening: connecting to its port is
 * refused at once, and no other program can take the port meanwhile.
 */
int
fuzz_refusing_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -1;
	}
	return ntohs(sa.sin_port);
}
