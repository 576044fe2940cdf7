/*
 * inside.h - what lies inside a compressed file or a virtual-disk container:
 * the start of the decompressed stream or of the virtual disk, seen by our
 * probes; a zip's or 7z's members; libmagic's name for content none of our
 * probes knows.  Worked out in the worker processes (scanner/tsk_worker.c),
 * never in the scanner: a decompression bomb, a crafted stream or a hostile
 * container costs one image.  Plain data: it travels over the worker's
 * socket as it is, inside struct tsk_result.
 */
#ifndef IMGSCAN_INSIDE_H
#define IMGSCAN_INSIDE_H

#include "ident.h"

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

/* struct inside_result is in ident.h: it travels inside struct tsk_result. */

struct tsk_request;

/* In the worker: answer an "inside" request for the image open on fd.
 * Fills res->inside; for a container with req->run_tsk, also res's TSK
 * fields, for the virtual disk (res->inside.tsk_ran says so).  Never
 * prints; bounded in the memory and time it spends (the pool's limits are
 * the backstop). */
void inside_look(const struct tsk_request *req, int fd, struct tsk_result *res);

/* Is layer a container whose virtual disk inside_container() reads
 * ("qcow2", "vmdk", "vhd", "vhdx", "vdi", "android-sparse")? */
bool inside_is_container(const char *layer);

/* Does what was found inside make the file an image: a disk, optical or
 * container image in the stream, or an archive member that is one? */
bool inside_holds_image(const struct inside_result *in);

/* The parts (one file each): */
/* compressed streams, zip and 7z, through libarchive (inside_compressed.c) */
void inside_compressed(const struct tsk_request *req, int fd, struct inside_result *out);
/* virtual-disk containers: qcow2 (libqcow), vmdk (libvmdk), vhd and vhdx
 * (libvhdi), vdi and android-sparse (their block maps) (inside_container.c) */
void inside_container(const struct tsk_request *req, int fd, struct tsk_result *res);
/* libmagic's description and MIME type of the first bytes, and our short
 * name for them in out->content ("html", "text", "executable", "pdf"...)
 * (inside_magic.c) */
void inside_magic(int fd, uint64_t size, struct inside_result *out);
void inside_magic_buffer(const void *buf, size_t len, struct inside_result *out);

/* An XXH128 as xxhsum -H2 prints it (canonical, lowercase hex). */
void inside_hex128(XXH128_hash_t v, char out[33]);

#endif
