/*
 * provenance.c - library versions and the kernel release (see
 * provenance.h).  The build versions come from CMake's pkg_check_modules
 * (IMGSCAN_BUILD_<NAME>, set on this file only in CMakeLists.txt).
 */
#include "provenance.h"
#include "run_json.h"
#include "../config/version.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <xxhash.h>

#ifndef IMGSCAN_BUILD_URING
#error "CMakeLists.txt passes the libraries' build versions (IMGSCAN_BUILD_*) to this file"
#endif

struct lib_version {
	const char *name;     /* the pkg-config module */
	const char *build;    /* its version at build time */
	/* The version the loaded library reports, or NULL: none to ask. */
	const char *(*runtime)(char *buf, size_t len);
	const char *used_by;  /* for --version: which program loads it */
};

static const char *xxhash_runtime(char *buf, size_t len)
{
	unsigned v = XXH_versionNumber(); /* major * 10000 + minor * 100 + release */

	snprintf(buf, len, "%u.%u.%u", v / 10000, v / 100 % 100, v % 100);
	return buf;
}

static const char *cjson_runtime(char *buf, size_t len)
{
	snprintf(buf, len, "%s", cJSON_Version());
	return buf;
}

static const char *crypto_runtime(char *buf, size_t len)
{
	snprintf(buf, len, "%s", OpenSSL_version(OPENSSL_VERSION_STRING)); /* "3.0.19", as pkg-config says */
	return buf;
}

static const char *sqlite_runtime(char *buf, size_t len)
{
	snprintf(buf, len, "%s", sqlite3_libversion());
	return buf;
}

/* Every library of CMakeLists.txt's pkg_check_modules, in its order. */
static const struct lib_version libs[] = {
	{"liburing", IMGSCAN_BUILD_URING, NULL, "imgscan"},
	{"tsk", IMGSCAN_BUILD_TSK, NULL, "imgscan-worker"},
	{"libxxhash", IMGSCAN_BUILD_XXHASH, xxhash_runtime, "imgscan"},
	{"libcjson", IMGSCAN_BUILD_CJSON, cjson_runtime, "imgscan"},
	{"libcrypto", IMGSCAN_BUILD_CRYPTO, crypto_runtime, "imgscan"},
	{"sqlite3", IMGSCAN_BUILD_SQLITE, sqlite_runtime, "imgscan"},
	{"libpq", IMGSCAN_BUILD_PQ, NULL, "imgscan-load"},
	{"libarchive", IMGSCAN_BUILD_ARCHIVE, NULL, "imgscan-worker"},
	{"libmagic", IMGSCAN_BUILD_MAGIC, NULL, "imgscan-worker"},
	{"libqcow", IMGSCAN_BUILD_QCOW, NULL, "imgscan-worker"},
	{"libvmdk", IMGSCAN_BUILD_VMDK, NULL, "imgscan-worker"},
	{"libvhdi", IMGSCAN_BUILD_VHDI, NULL, "imgscan-worker"},
	{"libewf", IMGSCAN_BUILD_EWF, NULL, "imgscan-worker"},
};
#define NLIBS (sizeof(libs) / sizeof(libs[0]))

/* The version to report for lib i into buf; *from: "runtime" or "build". */
static const char *lib_version(size_t i, char *buf, size_t len, const char **from)
{
	const char *v = libs[i].runtime ? libs[i].runtime(buf, len) : NULL;

	*from = v && v[0] ? "runtime" : "build";
	return v && v[0] ? v : libs[i].build;
}

cJSON *provenance_libraries_json(void)
{
	cJSON *o = cJSON_CreateObject();
	const char *from;
	char buf[64];

	for (size_t i = 0; i < NLIBS; i++) {
		cJSON *lib = cJSON_AddObjectToObject(o, libs[i].name);
		const char *v = lib_version(i, buf, sizeof(buf), &from);
		cJSON_AddStringToObject(lib, "version", v);
		cJSON_AddStringToObject(lib, "from", from);
	}
	return o;
}

const char *provenance_kernel(char *buf, size_t len)
{
	struct utsname u;

	snprintf(buf, len, "%s", uname(&u) == 0 ? u.release : "");
	return buf;
}

void provenance_print(FILE *f, int uring_rc)
{
	const char *from;
	char buf[256];

	fprintf(f, "imgscan %s\n", IMGSCAN_VERSION); /* alone on the first line, for scripts */
	fprintf(f, "report schema: %d\n", REPORT_SCHEMA_VERSION);
	fprintf(f, "kernel: %s\n", provenance_kernel(buf, sizeof(buf)));
	if (uring_rc == 0)
		fprintf(f, "io_uring: available\n");
	else
		fprintf(f, "io_uring: not available (%s): scans read with pread\n", strerror(-uring_rc));
	fprintf(f, "libraries (runtime: the one loaded now; build: the one built against):\n");
	for (size_t i = 0; i < NLIBS; i++) {
		const char *v = lib_version(i, buf, sizeof(buf), &from); /* sets from: not in the same call */
		fprintf(f, "  %-11s %-10s %-8s %s\n", libs[i].name, v, from, libs[i].used_by);
	}
}
