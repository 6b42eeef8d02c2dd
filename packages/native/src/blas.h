/*
 * OpenBLAS, opened at run time instead of linked: OpenBLAS picks its CPU kernels and starts its
 * thread pool in a constructor that runs when the library is loaded, reading OPENBLAS_CORETYPE,
 * OPENBLAS_L2_SIZE and OPENBLAS_NUM_THREADS from the environment. These machines set
 * OPENBLAS_CORETYPE=Haswell, which makes OpenBLAS ~1.6× slower here; the engine must not depend
 * on its caller's environment either way, so it loads the library itself with those variables
 * masked (the core chosen from the CPU's features, one thread), restores them, and sets one
 * thread again afterwards.
 */
#ifndef ACTLAB_BLAS_H
#define ACTLAB_BLAS_H

#include <cblas.h>

namespace actlab {

struct Blas {
  decltype(&cblas_sgemm) sgemm = nullptr;
  const char* (*corename)() = nullptr;
  const char* (*config)() = nullptr;
  int (*get_num_threads)() = nullptr;
  void (*set_num_threads)(int) = nullptr;
  /* What the caller's environment said and the engine ignored (for the bench and logs). */
  char ignored_env[256] = {0};
};

/* Loads OpenBLAS once per process; null with `err` filled when it cannot. */
const Blas* load_blas(char* err, size_t errlen);

}  // namespace actlab

#endif
