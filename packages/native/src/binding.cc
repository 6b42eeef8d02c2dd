/*
 * The N-API binding of engine.h: a thin, checked layer. Every argument's type and every typed
 * array's element type and length are checked here, before the engine touches memory; a bad
 * call throws a JavaScript TypeError/RangeError and never crashes the process. The module is
 * context-aware (NAPI_MODULE_INIT, no static state of its own), so it loads in worker threads.
 */

#include <node_api.h>
#include <stdio.h>
#include <string.h>

#include <string>

#include "blas.h"
#include "engine.h"

namespace {

struct Holder {
  actlab_engine* engine = nullptr;
};

napi_value throw_error(napi_env env, const char* kind, const std::string& msg) {
  if (strcmp(kind, "type") == 0)
    napi_throw_type_error(env, "ERR_ACTLAB_NATIVE_ARG", msg.c_str());
  else if (strcmp(kind, "range") == 0)
    napi_throw_range_error(env, "ERR_ACTLAB_NATIVE_ARG", msg.c_str());
  else
    napi_throw_error(env, "ERR_ACTLAB_NATIVE", msg.c_str());
  return nullptr;
}

#define CHECK_NAPI(call)                                              \
  do {                                                                \
    if ((call) != napi_ok) return throw_error(env, "error", #call);   \
  } while (0)

bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  if (argc < want) {
    throw_error(env, "type", "expected " + std::to_string(want) + " arguments, got " + std::to_string(argc));
    return false;
  }
  return true;
}

bool get_number(napi_env env, napi_value v, const char* name, double* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    throw_error(env, "type", std::string(name) + " must be a number");
    return false;
  }
  napi_get_value_double(env, v, out);
  return true;
}

bool get_int(napi_env env, napi_value v, const char* name, int* out) {
  double d;
  if (!get_number(env, v, name, &d)) return false;
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != (double)(int)d) {
    throw_error(env, "range", std::string(name) + " must be a 32-bit integer");
    return false;
  }
  *out = (int)d;
  return true;
}

bool get_field(napi_env env, napi_value obj, const char* name, double* out) {
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return false;
  return get_number(env, v, name, out);
}

/* A typed array of element type `type` with exactly `length` elements (or any length if length < 0). */
template <typename T>
bool get_array(napi_env env, napi_value v, napi_typedarray_type type, const char* name, long long length, T** data,
               size_t* out_length = nullptr) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    throw_error(env, "type", std::string(name) + " must be a typed array");
    return false;
  }
  napi_typedarray_type actual;
  size_t n;
  void* p;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &actual, &n, &p, &buffer, &offset) != napi_ok) return false;
  if (actual != type) {
    const char* want = type == napi_float32_array ? "a Float32Array"
                       : type == napi_int32_array ? "an Int32Array"
                       : type == napi_uint32_array ? "a Uint32Array"
                                                   : "a typed array of the right type";
    throw_error(env, "type", std::string(name) + " must be " + want);
    return false;
  }
  if (length >= 0 && (long long)n != length) {
    throw_error(env, "range",
                std::string(name) + " must have " + std::to_string(length) + " elements, has " + std::to_string(n));
    return false;
  }
  *data = static_cast<T*>(p);
  if (out_length) *out_length = n;
  return true;
}

actlab_engine* unwrap(napi_env env, napi_value v) {
  Holder* h = nullptr;
  if (napi_unwrap(env, v, reinterpret_cast<void**>(&h)) != napi_ok || !h) {
    throw_error(env, "type", "not an engine");
    return nullptr;
  }
  if (!h->engine) {
    throw_error(env, "error", "the engine was disposed");
    return nullptr;
  }
  return h->engine;
}

/* Reads a call's `argc` arguments and the live engine in the first; null once it threw. */
actlab_engine* engine_call(napi_env env, napi_callback_info info, size_t argc, napi_value* argv) {
  if (!get_args(env, info, argc, argv)) return nullptr;
  return unwrap(env, argv[0]);
}

void finalize(napi_env, void* data, void*) {
  Holder* h = static_cast<Holder*>(data);
  actlab_engine_destroy(h->engine);
  delete h;
}

napi_value make_number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

// create(config) → engine
napi_value Create(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return nullptr;
  napi_valuetype t;
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) return throw_error(env, "type", "config must be an object");
  const char* ints[] = {"inputSize", "units", "hiddenLayers", "classes", "maxRows", "activation", "optimizer"};
  int iv[7];
  for (int i = 0; i < 7; i++) {
    napi_value v;
    CHECK_NAPI(napi_get_named_property(env, argv[0], ints[i], &v));
    if (!get_int(env, v, ints[i], &iv[i])) return nullptr;
  }
  actlab_config c;
  c.input_size = iv[0];
  c.units = iv[1];
  c.hidden_layers = iv[2];
  c.classes = iv[3];
  c.max_rows = iv[4];
  c.activation = iv[5];
  c.optimizer = iv[6];
  if (!get_field(env, argv[0], "p0", &c.act_p0) || !get_field(env, argv[0], "p1", &c.act_p1) ||
      !get_field(env, argv[0], "learningRate", &c.learning_rate) || !get_field(env, argv[0], "momentum", &c.momentum) ||
      !get_field(env, argv[0], "beta1", &c.beta1) || !get_field(env, argv[0], "beta2", &c.beta2) ||
      !get_field(env, argv[0], "epsilon", &c.epsilon))
    return nullptr;
  char err[ACTLAB_ERROR_LEN];
  actlab_engine* e = actlab_engine_create(&c, err);
  if (!e) return throw_error(env, strncmp(err, "invalid", 7) == 0 ? "range" : "error", err);
  napi_value obj;
  CHECK_NAPI(napi_create_object(env, &obj));
  Holder* h = new Holder{e};
  if (napi_wrap(env, obj, h, finalize, nullptr, nullptr) != napi_ok) {
    actlab_engine_destroy(e);
    delete h;
    return throw_error(env, "error", "could not wrap the engine");
  }
  // External memory so the GC sees what an engine holds.
  int64_t adjusted;
  napi_adjust_external_memory(env, (int64_t)(actlab_engine_state_floats(e) * 8), &adjusted);
  return obj;
}

// dispose(engine): frees the engine now (the finalizer would, later); calls after it throw.
napi_value Dispose(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return nullptr;
  Holder* h = nullptr;
  if (napi_unwrap(env, argv[0], reinterpret_cast<void**>(&h)) != napi_ok || !h) return throw_error(env, "type", "not an engine");
  if (h->engine) {
    int64_t adjusted;
    napi_adjust_external_memory(env, -(int64_t)(actlab_engine_state_floats(h->engine) * 8), &adjusted);
    actlab_engine_destroy(h->engine);
    h->engine = nullptr;
  }
  return nullptr;
}

// sizes(engine) → [paramFloats, stateFloats]
napi_value Sizes(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  actlab_engine* e = engine_call(env, info, 1, argv);
  if (!e) return nullptr;
  napi_value arr;
  CHECK_NAPI(napi_create_array_with_length(env, 2, &arr));
  napi_set_element(env, arr, 0, make_number(env, (double)actlab_engine_param_floats(e)));
  napi_set_element(env, arr, 1, make_number(env, (double)actlab_engine_state_floats(e)));
  return arr;
}

// getState(engine, out Float32Array[stateFloats], scalars Float64Array[3]) and
// setState(engine, state Float32Array[stateFloats], scalars Float64Array[3]): the same arguments,
// copied out of or into the engine.
napi_value TransferState(napi_env env, napi_callback_info info, bool into_engine) {
  napi_value argv[3];
  actlab_engine* e = engine_call(env, info, 3, argv);
  if (!e) return nullptr;
  float* state;
  double* scalars;
  if (!get_array(env, argv[1], napi_float32_array, "state", (long long)actlab_engine_state_floats(e), &state) ||
      !get_array(env, argv[2], napi_float64_array, "scalars", 3, &scalars))
    return nullptr;
  if (into_engine) {
    actlab_engine_set_state(e, state);
    actlab_engine_set_scalars(e, scalars);
  } else {
    actlab_engine_get_state(e, state);
    actlab_engine_get_scalars(e, scalars);
  }
  return nullptr;
}

napi_value GetState(napi_env env, napi_callback_info info) { return TransferState(env, info, false); }
napi_value SetState(napi_env env, napi_callback_info info) { return TransferState(env, info, true); }

int hidden_layers_of(actlab_engine* e) { return actlab_engine_config(e)->hidden_layers; }
int units_of(actlab_engine* e) { return actlab_engine_config(e)->units; }

/* The head every batch call shares: (engine, x Float32Array[rows × inputSize], y Int32Array[rows], rows, …). */
struct Batch {
  napi_value argv[6];
  actlab_engine* e;
  int rows;
  const float* x;
  const int32_t* y;
};

/* Reads a batch call's `argc` arguments and checks its engine, x, y and rows; false once it threw. */
bool get_batch(napi_env env, napi_callback_info info, size_t argc, Batch* b) {
  b->e = engine_call(env, info, argc, b->argv);
  if (!b->e) return false;
  if (!get_int(env, b->argv[3], "rows", &b->rows)) return false;
  if (b->rows < 1) {
    throw_error(env, "range", "rows must be at least 1");
    return false;
  }
  float* xp;
  int32_t* yp;
  if (!get_array(env, b->argv[1], napi_float32_array, "x", (long long)b->rows * actlab_engine_config(b->e)->input_size, &xp) ||
      !get_array(env, b->argv[2], napi_int32_array, "y", b->rows, &yp))
    return false;
  b->x = xp;
  b->y = yp;
  return true;
}

/* Runs a batch call that yields (loss, correct) into `out` Float64Array[2], or throws its error. */
template <typename Run>
napi_value loss_and_correct(napi_env env, napi_value out_arg, Run run) {
  double* out;
  if (!get_array(env, out_arg, napi_float64_array, "out", 2, &out)) return nullptr;
  char err[ACTLAB_ERROR_LEN];
  double loss;
  int correct;
  if (run(&loss, &correct, err) != 0) return throw_error(env, "range", err);
  out[0] = loss;
  out[1] = correct;
  return nullptr;
}

/* rrelu's seeds argument: null/undefined, or a Uint32Array with one seed per hidden layer; false once it threw. */
bool get_seeds(napi_env env, napi_value arg, actlab_engine* e, const uint32_t** seeds) {
  *seeds = nullptr;
  napi_valuetype t;
  napi_typeof(env, arg, &t);
  if (t == napi_null || t == napi_undefined) return true;
  uint32_t* s;
  size_t n;
  if (!get_array(env, arg, napi_uint32_array, "rreluSeeds", -1, &s, &n)) return false;
  if ((long long)n != hidden_layers_of(e)) {
    throw_error(env, "range", "rreluSeeds must have one seed per hidden layer");
    return false;
  }
  *seeds = s;
  return true;
}

// trainBatch(engine, x, y, rows, rreluSeeds Uint32Array[hiddenLayers] | null, out Float64Array[2])
napi_value TrainBatch(napi_env env, napi_callback_info info) {
  Batch b;
  if (!get_batch(env, info, 6, &b)) return nullptr;
  const uint32_t* seeds = nullptr;
  if (!get_seeds(env, b.argv[4], b.e, &seeds)) return nullptr;
  return loss_and_correct(env, b.argv[5], [&](double* loss, int* correct, char* err) {
    return actlab_engine_train_batch(b.e, b.x, b.y, b.rows, seeds, loss, correct, err);
  });
}

// setData(engine, x Float32Array[rows × inputSize], y Int32Array[rows], rows): the training set trainRows reads.
napi_value SetData(napi_env env, napi_callback_info info) {
  Batch b;
  if (!get_batch(env, info, 4, &b)) return nullptr;
  char err[ACTLAB_ERROR_LEN];
  if (actlab_engine_set_data(b.e, b.x, b.y, b.rows, err) != 0) return throw_error(env, "range", err);
  return nullptr;
}

// trainRows(engine, indices Uint32Array[count], count, rreluSeeds Uint32Array[hiddenLayers] | null, out Float64Array[2])
napi_value TrainRows(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  actlab_engine* e = engine_call(env, info, 5, argv);
  if (!e) return nullptr;
  int count;
  if (!get_int(env, argv[2], "count", &count)) return nullptr;
  if (count < 1) return throw_error(env, "range", "count must be at least 1");
  uint32_t* indices;
  if (!get_array(env, argv[1], napi_uint32_array, "indices", count, &indices)) return nullptr;
  const uint32_t* seeds = nullptr;
  if (!get_seeds(env, argv[3], e, &seeds)) return nullptr;
  return loss_and_correct(env, argv[4], [&](double* loss, int* correct, char* err) {
    return actlab_engine_train_rows(e, indices, count, seeds, loss, correct, err);
  });
}

// evaluate(engine, x, y, rows, out Float64Array[2]) → out = [lossSum, correct]
napi_value Evaluate(napi_env env, napi_callback_info info) {
  Batch b;
  if (!get_batch(env, info, 5, &b)) return nullptr;
  return loss_and_correct(env, b.argv[4], [&](double* loss, int* correct, char* err) {
    return actlab_engine_evaluate(b.e, b.x, b.y, b.rows, loss, correct, err);
  });
}

// probe(engine, x, y, rows, pre Float32Array[hiddenLayers × rows × units], norms Float64Array[hiddenLayers + 1])
napi_value Probe(napi_env env, napi_callback_info info) {
  Batch b;
  if (!get_batch(env, info, 6, &b)) return nullptr;
  const int L = hidden_layers_of(b.e);
  float* pre;
  double* norms;
  if (!get_array(env, b.argv[4], napi_float32_array, "pre", (long long)L * b.rows * units_of(b.e), &pre) ||
      !get_array(env, b.argv[5], napi_float64_array, "norms", L + 1, &norms))
    return nullptr;
  char err[ACTLAB_ERROR_LEN];
  if (actlab_engine_probe(b.e, b.x, b.y, b.rows, pre, norms, err) != 0) return throw_error(env, "range", err);
  return nullptr;
}

// activation(id, p0, p1, x Float32Array, f, df, dalpha) — the kernels alone, for the catalog tests.
napi_value Activation(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv)) return nullptr;
  int id;
  double p0, p1;
  if (!get_int(env, argv[0], "id", &id) || !get_number(env, argv[1], "p0", &p0) || !get_number(env, argv[2], "p1", &p1))
    return nullptr;
  float *x, *f, *df, *da;
  size_t n;
  if (!get_array(env, argv[3], napi_float32_array, "x", -1, &x, &n) ||
      !get_array(env, argv[4], napi_float32_array, "f", (long long)n, &f) ||
      !get_array(env, argv[5], napi_float32_array, "df", (long long)n, &df) ||
      !get_array(env, argv[6], napi_float32_array, "dalpha", (long long)n, &da))
    return nullptr;
  char err[ACTLAB_ERROR_LEN];
  if (actlab_activation_eval(id, p0, p1, x, n, f, df, da, err) != 0) return throw_error(env, "range", err);
  return nullptr;
}

// mixSeed2(a, b) → the engine's rrelu hash (for the test that it equals the trainer's mixSeed).
napi_value MixSeed2(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return nullptr;
  double a, b;
  if (!get_number(env, argv[0], "a", &a) || !get_number(env, argv[1], "b", &b)) return nullptr;
  return make_number(env, actlab_mix_seed2((uint32_t)(int64_t)a, (uint32_t)(int64_t)b));
}

// blasInfo() → { corename, config, threads, ignoredEnv }; throws if OpenBLAS cannot load.
napi_value BlasInfo(napi_env env, napi_callback_info) {
  char err[ACTLAB_ERROR_LEN];
  const actlab::Blas* b = actlab::load_blas(err, sizeof err);
  if (!b) return throw_error(env, "error", err);
  napi_value obj, v;
  CHECK_NAPI(napi_create_object(env, &obj));
  napi_create_string_utf8(env, b->corename ? b->corename() : "unknown", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "corename", v);
  napi_create_string_utf8(env, b->config ? b->config() : "unknown", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "config", v);
  napi_set_named_property(env, obj, "threads", make_number(env, b->get_num_threads ? b->get_num_threads() : -1));
  napi_create_string_utf8(env, b->ignored_env, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "ignoredEnv", v);
  return obj;
}

}  // namespace

NAPI_MODULE_INIT() {
  struct Fn {
    const char* name;
    napi_callback cb;
  };
  const Fn fns[] = {{"create", Create},     {"dispose", Dispose},   {"sizes", Sizes},
                    {"getState", GetState}, {"setState", SetState}, {"trainBatch", TrainBatch}, {"setData", SetData}, {"trainRows", TrainRows},
                    {"evaluate", Evaluate}, {"probe", Probe},       {"activation", Activation},
                    {"mixSeed2", MixSeed2}, {"blasInfo", BlasInfo}};
  for (const Fn& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return nullptr;
  }
  return exports;
}
