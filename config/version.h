/* version.h - the one place the version lives (CMake passes it in). */
#ifndef IMGSCAN_VERSION_H
#define IMGSCAN_VERSION_H
#ifndef IMGSCAN_VERSION
#define IMGSCAN_VERSION "0.1.0"
#endif
const char *imgscan_default_config_text(void);
#endif
