// A thread-local mark for NeuralNet's parallel regions (Swift has no thread-local storage of its own).
#include "cplatform.h"

static _Thread_local int in_region = 0;

int sp_parallel_region_enter(void) { const int previous = in_region; in_region = 1; return previous; }
void sp_parallel_region_leave(int previous) { in_region = previous; }
int sp_parallel_in_region(void) { return in_region; }
