/*
 * merge.h - `imgscan merge -o REPORT SHARD-REPORT...`: the reports of a
 * sharded scan (scan --shard K/N on N machines) as one report, as if one
 * machine had scanned it all (README, "Sharded scans").
 */
#ifndef IMGSCAN_MERGE_H
#define IMGSCAN_MERGE_H

/* Nothing was merged (the reports were refused or could not be read, or
 * the merged report could not be written): 0, 1 and 2 always mean that
 * the merged report was written, with that status. */
#define EXIT_NOT_MERGED 65 /* EX_DATAERR */

/* argv[1] is "merge".  Returns the exit status. */
int merge_main(int argc, char **argv);

#endif
