{
  "targets": [
    {
      "target_name": "actlab_native",
      "sources": ["src/binding.cc", "src/engine_cpu.cc", "src/blas.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldl", "-lmvec"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
