/*
 * act.h - acting on a report's findings: `imgscan rename` (act/rename*.c)
 * renames misnamed images with a journal that `--undo` reverses, and
 * `imgscan convert` (act/convert*.c) extracts the ISO 9660 image from a
 * raw 2352-byte-sector CD image.
 */
#ifndef IMGSCAN_ACT_H
#define IMGSCAN_ACT_H

/* argv[1] is "rename".  Returns the exit status. */
int rename_main(int argc, char **argv);
/* argv[1] is "convert".  Returns the exit status. */
int convert_main(int argc, char **argv);

#endif
