/*
 * actlab's native training engine: a plain C interface, so that a second implementation (a
 * CUDA/cuBLAS build, say) could sit behind the same calls and the same N-API binding. The CPU
 * implementation (engine_cpu.cc) runs every product on OpenBLAS's cblas_sgemm.
 *
 * The network is the family actlab trains: `hidden_layers` × (Dense → activation), then
 * Dense → softmax, with the cross-entropy computed from the logits. Parameters are kept in
 * TensorFlow.js's order (per layer: kernel [in, out] row-major, bias [out], then prelu's α
 * [units]), optimizer slots after them in tf.train's order, so the state copies straight to and
 * from a TF.js model and checkpoint.
 *
 * The engine has no global state: everything of a run lives in its actlab_engine, freed by
 * actlab_engine_destroy. Callers check shapes; the engine checks them again and returns an
 * error instead of touching memory it does not own.
 */
#ifndef ACTLAB_ENGINE_H
#define ACTLAB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum actlab_optimizer { ACTLAB_SGD = 0, ACTLAB_MOMENTUM = 1, ACTLAB_ADAM = 2 };

/* Activation ids are ACTIVATIONS[name].nativeId in packages/contracts (the one table). */
enum actlab_activation {
  ACTLAB_SIGMOID = 0,
  ACTLAB_TANH = 1,
  ACTLAB_RELU = 2,
  ACTLAB_LEAKY_RELU = 3,
  ACTLAB_PRELU = 4,
  ACTLAB_RRELU = 5,
  ACTLAB_ELU = 6,
  ACTLAB_SELU = 7,
  ACTLAB_GELU = 8,
  ACTLAB_SILU = 9,
  ACTLAB_SOFTPLUS = 10,
  ACTLAB_MISH = 11,
  ACTLAB_LINEAR = 12,
  ACTLAB_ACTIVATION_COUNT = 13
};

typedef struct {
  int input_size;
  int units;
  int hidden_layers;
  int classes;
  /* The most rows one call may pass (batch, evaluation chunk or probe batch). */
  int max_rows;
  int activation;
  /* leaky_relu/elu: p0 = α; rrelu: p0 = lower, p1 = upper; others ignore them. */
  double act_p0;
  double act_p1;
  int optimizer;
  double learning_rate;
  double momentum;
  double beta1;
  double beta2;
  double epsilon;
} actlab_config;

typedef struct actlab_engine actlab_engine;

#define ACTLAB_ERROR_LEN 256

/* NULL on failure, with the reason in err (ACTLAB_ERROR_LEN bytes). */
actlab_engine* actlab_engine_create(const actlab_config* config, char* err);
void actlab_engine_destroy(actlab_engine* engine);

const actlab_config* actlab_engine_config(const actlab_engine* engine);

/* Floats of the parameters alone, and of parameters + optimizer slots (the state). */
size_t actlab_engine_param_floats(const actlab_engine* engine);
size_t actlab_engine_state_floats(const actlab_engine* engine);
void actlab_engine_get_state(const actlab_engine* engine, float* out);
void actlab_engine_set_state(actlab_engine* engine, const float* in);
/* The optimizer's scalars: iterations, and Adam's running β₁ᵗ, β₂ᵗ (tf.train's accBeta1/2). */
void actlab_engine_get_scalars(const actlab_engine* engine, double out[3]);
void actlab_engine_set_scalars(actlab_engine* engine, const double in[3]);

/*
 * One training step on `rows` examples: forward, loss, backward, update. `rrelu_seeds` (one per
 * hidden layer) seed rrelu's per-element slopes; NULL for other activations. Returns 0, or -1
 * with err filled.
 */
int actlab_engine_train_batch(actlab_engine* engine, const float* x, const int32_t* y, int rows,
                              const uint32_t* rrelu_seeds, double* loss_mean, int* correct, char* err);

/*
 * Keeps a copy of the training set (`rows` examples of input_size floats, labels checked here)
 * for actlab_engine_train_rows, stored by its nonzero entries. Replaces an earlier one.
 */
int actlab_engine_set_data(actlab_engine* engine, const float* x, const int32_t* y, int rows, char* err);

/*
 * actlab_engine_train_batch on the rows `indices[0..count)` of the set_data training set, in that
 * order: the same step, bit for bit, without the caller gathering the batch.
 */
int actlab_engine_train_rows(actlab_engine* engine, const uint32_t* indices, int count,
                             const uint32_t* rrelu_seeds, double* loss_mean, int* correct, char* err);

/* Inference-mode loss (summed over rows) and correct count, in chunks of max_rows. */
int actlab_engine_evaluate(actlab_engine* engine, const float* x, const int32_t* y, int rows,
                           double* loss_sum, int* correct, char* err);

/*
 * On one inference-mode batch: each kernel's gradient L2 norm (hidden_layers + 1 of them, input
 * side first) and each hidden layer's pre-activations (hidden_layers × rows × units) into
 * `pre_out`. Changes nothing.
 */
int actlab_engine_probe(actlab_engine* engine, const float* x, const int32_t* y, int rows, float* pre_out,
                        double* grad_norms, char* err);

/* f, f′ and ∂f/∂α (prelu, with α = p0; 0 for others) elementwise, as the engine computes them. */
int actlab_activation_eval(int activation, double p0, double p1, const float* x, size_t n, float* f,
                           float* df, float* dalpha, char* err);

/* The 32-bit hash rrelu's slopes come from: the same as mixSeed(seed, index) in packages/trainer. */
uint32_t actlab_mix_seed2(uint32_t a, uint32_t b);

#ifdef __cplusplus
}
#endif

#endif
