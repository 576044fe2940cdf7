/*
 * inside_container.c - placeholder until the container readers land.
 */
#include "inside.h"
#include "tsk_glue.h"

#include <stdio.h>

void inside_container(const struct tsk_request *req, int fd, struct tsk_result *res)
{
	(void)fd;
	res->inside.status = INSIDE_FAILED;
	snprintf(res->inside.failure, sizeof(res->inside.failure), "%s: not readable yet", req->container);
}
