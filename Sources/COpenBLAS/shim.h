#pragma once
// OpenBLAS cblas.h (found through pkg-config "openblas"); declares openblas_set_num_threads too.
#include <cblas.h>
