/*
 * worker_main.c - imgscan-worker: the Sleuth Kit worker program.  The pool
 * (tsk_pool.c) starts it with its socket on fd 0 as
 *   imgscan-worker --tsk-worker STAMP
 * It is a program of its own so that imgscan starts without loading The
 * Sleuth Kit and the libraries it pulls in (some fifty, read from the disk
 * on a cold start), which only the workers use.
 */
#include "tsk_wire.h"

#include <string.h>

int main(int argc, char **argv)
{
	char stamp[96];

	tsk_wire_stamp(stamp, sizeof(stamp));
	if (argc != 3 || strcmp(argv[1], "--tsk-worker"))
		return 64; /* run by hand: nothing to do */
	if (strcmp(argv[2], stamp))
		return 126; /* another build's pool: its messages are not ours */
	return tsk_worker_main(TSK_WORKER_SOCKET_FD);
}
