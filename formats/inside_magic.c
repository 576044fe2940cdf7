#include "inside.h"
#include "tsk_glue.h"
void inside_magic(int fd, uint64_t size, struct inside_result *out) { (void)size; (void)fd; (void)out; }
