/*
 * merge.h - `imgscan merge -o REPORT SHARD-REPORT...`: the reports of a
 * sharded scan (scan --shard K/N on N machines) as one report, as if one
 * machine had scanned it all (README, "Sharded scans").
 */
#ifndef IMGSCAN_MERGE_H
#define IMGSCAN_MERGE_H

/* argv[1] is "merge".  Returns the exit status. */
int merge_main(int argc, char **argv);

#endif
