#include "buildinfo.h"
#ifndef SPARROW_GIT_COMMIT
#define SPARROW_GIT_COMMIT "unknown"
#endif
const char *sparrow_git_commit(void) { return SPARROW_GIT_COMMIT; }
