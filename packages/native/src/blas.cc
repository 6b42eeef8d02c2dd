#include "blas.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>
#include <string>

namespace actlab {

namespace {

Blas g_blas;  // read-only after the one load; the library itself is process-wide
std::string g_error;
std::once_flag g_once;

// The variables OpenBLAS reads when it loads, and what the engine wants while it does.
struct Masked {
  const char* name;
  const char* value;  // null: unset
};
Masked kMasked[] = {
    {"OPENBLAS_CORETYPE", nullptr},  // set by best_core() below
    {"OPENBLAS_L2_SIZE", nullptr},
    {"OPENBLAS_NUM_THREADS", "1"},
    {"OPENBLAS_VERBOSE", nullptr},
};

/*
 * The kernels to use, from the CPU's own features. OpenBLAS 0.3.21's detection does not know
 * the CPUs these machines have (it falls back to Prescott, SSE3 kernels, ~4× slower than the
 * AVX-512 ones here), and the environment's OPENBLAS_CORETYPE=Haswell is ~1.6× slower than
 * AVX-512; so the engine names the core itself. Null: let OpenBLAS detect it.
 */
const char* best_core() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

void load_once() {
  kMasked[0].value = best_core();
  // setenv/unsetenv are not thread-safe against concurrent getenv; this runs once, when the
  // first engine is created, before any training thread uses OpenBLAS.
  std::string saved[sizeof kMasked / sizeof kMasked[0]];
  bool had[sizeof kMasked / sizeof kMasked[0]] = {false};
  std::string ignored;
  for (size_t i = 0; i < sizeof kMasked / sizeof kMasked[0]; i++) {
    const char* v = getenv(kMasked[i].name);
    if (v) {
      had[i] = true;
      saved[i] = v;
      if (!kMasked[i].value || strcmp(v, kMasked[i].value) != 0) {
        if (!ignored.empty()) ignored += " ";
        ignored += std::string(kMasked[i].name) + "=" + v;
      }
    }
    if (kMasked[i].value)
      setenv(kMasked[i].name, kMasked[i].value, 1);
    else
      unsetenv(kMasked[i].name);
  }
  void* lib = nullptr;
  const char* names[] = {"libopenblas.so.0", "libopenblas.so"};
  std::string why;
  for (const char* name : names) {
    lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (lib) break;
    const char* e = dlerror();
    if (!why.empty()) why += "; ";
    why += e ? e : name;
  }
  for (size_t i = 0; i < sizeof kMasked / sizeof kMasked[0]; i++) {
    if (had[i])
      setenv(kMasked[i].name, saved[i].c_str(), 1);
    else
      unsetenv(kMasked[i].name);
  }
  if (!lib) {
    g_error = "OpenBLAS could not be loaded (" + why + "); install libopenblas0";
    return;
  }
  g_blas.sgemm = reinterpret_cast<decltype(g_blas.sgemm)>(dlsym(lib, "cblas_sgemm"));
  g_blas.corename = reinterpret_cast<decltype(g_blas.corename)>(dlsym(lib, "openblas_get_corename"));
  g_blas.config = reinterpret_cast<decltype(g_blas.config)>(dlsym(lib, "openblas_get_config"));
  g_blas.get_num_threads = reinterpret_cast<decltype(g_blas.get_num_threads)>(dlsym(lib, "openblas_get_num_threads"));
  g_blas.set_num_threads = reinterpret_cast<decltype(g_blas.set_num_threads)>(dlsym(lib, "openblas_set_num_threads"));
  if (!g_blas.sgemm || !g_blas.set_num_threads) {
    g_error = "the loaded libopenblas lacks cblas_sgemm or openblas_set_num_threads";
    g_blas.sgemm = nullptr;
    return;
  }
  // One thread per training thread: the worker per core is the parallelism.
  g_blas.set_num_threads(1);
  snprintf(g_blas.ignored_env, sizeof g_blas.ignored_env, "%s", ignored.c_str());
}

}  // namespace

const Blas* load_blas(char* err, size_t errlen) {
  std::call_once(g_once, load_once);
  if (!g_blas.sgemm) {
    snprintf(err, errlen, "%s", g_error.c_str());
    return nullptr;
  }
  return &g_blas;
}

}  // namespace actlab
