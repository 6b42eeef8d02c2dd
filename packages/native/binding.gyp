{
  "targets": [
    {
      "target_name": "actlab_native",
      "sources": ["src/binding.cc", "src/engine_cpu.cc", "src/blas.cc"],
      # -fno-trapping-math lets the elementwise loops' selects vectorise (engine_cpu.cc, act_forward);
      # the engine never relies on floating-point traps.
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldl", "-lmvec"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
