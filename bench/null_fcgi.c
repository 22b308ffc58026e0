/*
 * The ceiling of `make bench`: a FastCGI responder that does nothing but
 * read the request body to its end and answer 200 with a short JSON
 * body, the least any responder behind the same nginx can do. It runs
 * under spawn-fcgi exactly like wc2sf.fcgi, on fd 0, so the difference
 * between the two runs is wc2sf's own work.
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

static const char reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "Content-Length: 17\r\n"
    "\r\n"
    "{\"result\":\"null\"}";

/* Read and drop the body, as wc2sf reads it: in large pieces. */
static void
drain_body(FCGX_Stream *in)
{
	char buf[65536];

	while (FCGX_GetStr(buf, (int)sizeof(buf), in) > 0)
		continue;
}

int
main(void)
{
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		drain_body(req.in);
		FCGX_PutStr(reply, (int)(sizeof(reply) - 1), req.out);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	return 0;
}
