/*
 * load.h - `imgscan load`: scan reports into an evidence database
 * (db/SCHEMA.md), SQLite or PostgreSQL.
 */
#ifndef IMGSCAN_LOAD_H
#define IMGSCAN_LOAD_H

/* argv[1] is "load".  Returns the exit status. */
int load_main(int argc, char **argv);

#endif
