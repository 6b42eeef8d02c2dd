/*
 * The CPU implementation of engine.h on OpenBLAS. Every product is a cblas_sgemm with its
 * transpose flags (no hand-written GEMM); the elementwise work (activations, softmax, updates)
 * is plain loops. Float operations follow TensorFlow.js's op order where it matters (the
 * optimizers' update rules, the loss), so both engines agree to float rounding.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <new>
#include <vector>

#include "blas.h"
#include "engine.h"

#if defined(__x86_64__)
#include <immintrin.h>
// glibc's vector math library (libmvec): e^x of 4 floats, an IFUNC that picks the SSE4 or AVX
// kernel this CPU has (every x86-64 has one of them).
extern "C" __m128 _ZGVbN4v_expf(__m128);
#endif

namespace {

using actlab::Blas;

constexpr double SELU_LAMBDA = 1.0507009873554805;
constexpr double SELU_ALPHA = 1.6732632423543772;

inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

// e^v in place. Why libmvec: a sigmoid or tanh layer takes an exp per unit and row (6.4 M a
// chapter epoch), and glibc's scalar expf, one call each, was ~20% of such an epoch; libmvec's
// kernels are as accurate (≤ 4 ulp, against 1e-5 the engine promises) and do 4 at a time.
void exp_inplace(float* v, size_t n) {
  size_t i = 0;
#if defined(__x86_64__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(v + i, _ZGVbN4v_expf(_mm_loadu_ps(v + i)));
#endif
  for (; i < n; i++) v[i] = expf(v[i]);
}

// e^min(z, 0) − 1 into out, 4 at a time (exp_inplace). Why not expm1f: it is a scalar call per
// element, and an elu or selu epoch spent ~40% more than a relu one on it and its branch. Near 0,
// e^z − 1 loses relative accuracy to cancellation but keeps its absolute error at float32's
// rounding of 1 (~6e-8), inside the engine's promise (1e-6 absolute); only z ≤ 0 is used.
void expm1_nonpositive(const float* z, float* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = z[i] > 0.0f ? 0.0f : z[i];  // NaN stays NaN
  exp_inplace(out, n);
  for (size_t i = 0; i < n; i++) out[i] -= 1.0f;
}

// tanh through expf, as sigmoidf: glibc's tanhf made a tanh epoch twice a relu or sigmoid one
// (bench:train, 0.31 against 0.15 s). (1 − e)/(1 + e) with e = exp(−2|x|) loses relative accuracy
// near 0 to cancellation but keeps its absolute error near float32's rounding (~1e-7), well inside
// what the engine promises (f within 1e-5 relative or 1e-6 absolute of the catalog's).
inline float tanh_fast(float x) {
  const float e = expf(-2.0f * fabsf(x));
  return copysignf((1.0f - e) / (1.0f + e), x);
}

// TF.js's softplus: x above ~15.9, exp(x) below ~-15.9 (float32's epsilon thresholds), else log1p(exp(x)).
inline float softplusf(float x) {
  const float threshold = logf(1.1920928955078125e-7f) + 2.0f;
  if (x > -threshold) return x;
  if (x < threshold) return expf(x);
  return logf(expf(x) + 1.0f);
}

// The per-element hash (mixSeed of packages/trainer/src/random.ts with two parts).
inline uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
uint32_t mix2(uint32_t a, uint32_t b) {
  uint32_t h = 0x9e3779b9u;
  const uint32_t parts[2] = {a, b};
  for (uint32_t k : parts) {
    k *= 0xcc9e2d51u;
    k = rotl(k, 15);
    k *= 0x1b873593u;
    h ^= k;
    h = rotl(h, 13);
    h = h * 5u + 0xe6546b64u;
  }
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* Activation parameters as floats, as TF.js sees them (float32 scalars). */
struct ActParams {
  int id;
  float p0;
  float p1;
  float rrelu_mean;  // (lower + upper) / 2 computed in double, then float, as TF.js does
};

/*
 * f on n values; `slopes` are rrelu's training slopes (null: its mean), `alpha` prelu's per unit.
 * The negative sides are written so they compile to vector selects: parameters in locals (read
 * through `a` they could alias h), every load unconditional, and -fno-trapping-math (binding.gyp)
 * so the compiler may multiply both sides. Otherwise each loop stayed scalar with a branch on z's
 * sign — a coin flip in a trained layer — and a leaky_relu, prelu or rrelu step cost 50–60% more
 * than a relu one (perf on the chapter's network).
 */
void act_forward(const ActParams& a, const float* __restrict z, float* __restrict h, size_t rows, size_t units,
                 const float* __restrict slopes, const float* __restrict alpha) {
  const size_t n = rows * units;
  const float p0 = a.p0, rrelu_mean = a.rrelu_mean;
  switch (a.id) {
    case ACTLAB_SIGMOID:  // sigmoidf, with the exps done together
      for (size_t i = 0; i < n; i++) h[i] = -z[i];
      exp_inplace(h, n);
      for (size_t i = 0; i < n; i++) h[i] = 1.0f / (1.0f + h[i]);
      break;
    case ACTLAB_TANH:  // tanh_fast, with the exps done together
      for (size_t i = 0; i < n; i++) h[i] = -2.0f * fabsf(z[i]);
      exp_inplace(h, n);
      for (size_t i = 0; i < n; i++) h[i] = copysignf((1.0f - h[i]) / (1.0f + h[i]), z[i]);
      break;
    case ACTLAB_RELU:
      for (size_t i = 0; i < n; i++) h[i] = z[i] > 0.0f ? z[i] : 0.0f;
      break;
    case ACTLAB_LEAKY_RELU:
      for (size_t i = 0; i < n; i++) h[i] = z[i] > 0.0f ? z[i] : p0 * z[i];
      break;
    case ACTLAB_PRELU:
      for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < units; j++) {
          const float v = z[r * units + j], s = alpha[j];  // both loads unconditional: a select
          h[r * units + j] = v > 0.0f ? v : s * v;
        }
      break;
    case ACTLAB_RRELU:
      if (slopes)
        for (size_t i = 0; i < n; i++) {
          const float v = z[i], s = slopes[i];  // both loads unconditional: a select
          h[i] = v > 0.0f ? v : s * v;
        }
      else
        for (size_t i = 0; i < n; i++) h[i] = z[i] > 0.0f ? z[i] : rrelu_mean * z[i];
      break;
    case ACTLAB_ELU:  // α(e^z − 1) with the exps done together (expm1_nonpositive)
      expm1_nonpositive(z, h, n);
      for (size_t i = 0; i < n; i++) h[i] = z[i] > 0.0f ? z[i] : p0 * h[i];
      break;
    case ACTLAB_SELU: {
      const float l = (float)SELU_LAMBDA, la = (float)(SELU_LAMBDA * SELU_ALPHA);
      expm1_nonpositive(z, h, n);
      for (size_t i = 0; i < n; i++) h[i] = z[i] > 0.0f ? l * z[i] : la * h[i];
      break;
    }
    case ACTLAB_GELU:
      for (size_t i = 0; i < n; i++) h[i] = z[i] * 0.5f * (1.0f + erff(z[i] * (float)M_SQRT1_2));
      break;
    case ACTLAB_SILU:
      for (size_t i = 0; i < n; i++) h[i] = z[i] * sigmoidf(z[i]);
      break;
    case ACTLAB_SOFTPLUS:
      for (size_t i = 0; i < n; i++) h[i] = softplusf(z[i]);
      break;
    case ACTLAB_MISH:
      for (size_t i = 0; i < n; i++) h[i] = z[i] * tanh_fast(softplusf(z[i]));
      break;
    case ACTLAB_LINEAR:
      memcpy(h, z, n * sizeof(float));
      break;
  }
}

/* f′ at one value (the catalog's, with TF.js's choice at the kinks: relu′(0) = 0, slope at 0 for the leaky family). */
inline float act_df(const ActParams& a, float z, float h, float slope) {
  switch (a.id) {
    case ACTLAB_SIGMOID:
      return h * (1.0f - h);
    case ACTLAB_TANH:
      return 1.0f - h * h;
    case ACTLAB_RELU:
      return z > 0.0f ? 1.0f : 0.0f;
    case ACTLAB_LEAKY_RELU:
      return z > 0.0f ? 1.0f : a.p0;
    case ACTLAB_PRELU:
    case ACTLAB_RRELU:
      return z > 0.0f ? 1.0f : slope;
    case ACTLAB_ELU:
      return z > 0.0f ? 1.0f : a.p0 * expf(z);
    case ACTLAB_SELU:
      return z > 0.0f ? (float)SELU_LAMBDA : (float)(SELU_LAMBDA * SELU_ALPHA) * expf(z);
    case ACTLAB_GELU: {
      const float cdf = 0.5f * (1.0f + erff(z * (float)M_SQRT1_2));
      const float pdf = expf(-0.5f * z * z) * 0.3989422804014327f;
      return cdf + z * pdf;
    }
    case ACTLAB_SILU: {
      const float s = sigmoidf(z);
      return s * (1.0f + z * (1.0f - s));
    }
    case ACTLAB_SOFTPLUS:
      return sigmoidf(z);
    case ACTLAB_MISH: {
      const float t = tanh_fast(softplusf(z));
      return t + z * sigmoidf(z) * (1.0f - t * t);
    }
    default:
      return 1.0f;
  }
}

struct Param {
  float* value;
  float* grad;
  size_t size;
};

}  // namespace

struct actlab_engine {
  actlab_config cfg;
  const Blas* blas;
  ActParams act;
  int L;                // hidden layers
  std::vector<int> in;  // per dense layer: fan-in and fan-out
  std::vector<int> out;
  std::vector<float> state;  // params, then optimizer slots
  std::vector<float> grads;  // same layout as the params
  size_t param_floats;
  std::vector<Param> params;
  std::vector<size_t> kernel_off, bias_off, alpha_off;  // offsets into state
  // Scratch, max_rows rows each.
  std::vector<std::vector<float>> z, h, slopes;
  std::vector<float> probs, d0, d1;
  // The first layer's input compacted to the columns (pixels) nonzero in some row of the batch:
  // `cols` lists them (k of in[0]; k = 0: not compacted), `xc` holds those columns of x, `w0c`
  // the matching rows of W0 and, in backward, the rows of its gradient.
  std::vector<char> active;
  std::vector<int> cols;
  std::vector<float> xc, w0c;
  int k = 0;
  // The training set of set_data as compressed rows (row r's nonzeros are data_col/data_val
  // [data_ptr[r], data_ptr[r+1])). Why: MNIST rows are ~80% zeros, so a batch built from its
  // rows' nonzeros reads a fifth of the bytes a gather of dense rows reads, and those reads were
  // a tenth of a step (a 3 KB row at a random place of a 25 MB array each, then scanned again
  // for compact_input). `colpos` maps a column to its place among a batch's active ones; `xd` and
  // `yb` hold a batch's dense rows (when it is not compacted) and labels.
  std::vector<size_t> data_ptr;
  std::vector<uint16_t> data_col;  // input_size ≤ 65,535 (checked in set_data)
  std::vector<float> data_val;
  std::vector<int32_t> data_y;
  int data_rows = 0;
  std::vector<int> colpos;
  std::vector<float> xd;
  std::vector<int32_t> yb;
  double iterations = 0;
  float acc_beta1 = 0, acc_beta2 = 0;

  float* W(int l) { return state.data() + kernel_off[l]; }
  float* B(int l) { return state.data() + bias_off[l]; }
  float* A(int l) { return act.id == ACTLAB_PRELU ? state.data() + alpha_off[l] : nullptr; }
  float* gW(int l) { return grads.data() + kernel_off[l]; }
  float* gB(int l) { return grads.data() + bias_off[l]; }
  float* gA(int l) { return grads.data() + alpha_off[l]; }
};

namespace {

void fail(char* err, const char* msg) { snprintf(err, ACTLAB_ERROR_LEN, "%s", msg); }

bool check_rows(const actlab_engine* e, int rows, char* err) {
  if (rows < 1 || rows > e->cfg.max_rows) {
    snprintf(err, ACTLAB_ERROR_LEN, "rows must be in 1..%d, got %d", e->cfg.max_rows, rows);
    return false;
  }
  return true;
}

bool check_labels(const actlab_engine* e, const int32_t* y, int rows, char* err) {
  for (int i = 0; i < rows; i++)
    if (y[i] < 0 || y[i] >= e->cfg.classes) {
      snprintf(err, ACTLAB_ERROR_LEN, "label %d at row %d is outside 0..%d", y[i], i, e->cfg.classes - 1);
      return false;
    }
  return true;
}

/* Z = X·W + b for `rows` rows, X having `n_in` columns and W `n_in` rows (the layer's, or compacted ones). */
void dense_with(const float* x, const float* w, const float* b, int rows, int n_in, int n_out, const Blas* blas,
                float* zout) {
  for (int r = 0; r < rows; r++) memcpy(zout + (size_t)r * n_out, b, n_out * sizeof(float));
  blas->sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n_out, n_in, 1.0f, x, n_in, w, n_out, 1.0f, zout,
              n_out);
}

void dense(actlab_engine* e, int l, const float* x, int rows, float* zout) {
  dense_with(x, e->W(l), e->B(l), rows, e->in[l], e->out[l], e->blas, zout);
}

/*
 * Why: MNIST's digits leave most pixels zero, and a batch of 100 leaves about a third of the 784
 * pixels zero in every one of its rows (517 columns active on average over the 10,000 digits). A
 * zero column of X adds nothing to X·W and gives a zero row of ∂W = Xᵀ·d, so the first layer's
 * two products — 46% of a step's arithmetic in the chapter's network — can run on the active
 * columns only: still cblas_sgemm, on a gathered X and W0 (a copy of k rows), with ∂W0's other
 * rows exactly 0 as the full product gives them. Compacting pays only when enough columns are
 * zero (the gathers and the scatter cost about a tenth of the product they save), so at most 85%.
 * Returns whether it compacted (e->k > 0).
 */
bool use_active_columns(actlab_engine* e);

bool compact_input(actlab_engine* e, const float* x, int rows) {
  const int n_in = e->in[0];
  char* active = e->active.data();
  memset(active, 0, n_in);
  for (int r = 0; r < rows; r++) {
    const float* row = x + (size_t)r * n_in;
    for (int j = 0; j < n_in; j++) active[j] |= row[j] != 0.0f;  // NaN and ±inf count as active
  }
  if (!use_active_columns(e)) return false;
  const int k = e->k;
  const int* cols = e->cols.data();
  for (int r = 0; r < rows; r++) {
    const float* row = x + (size_t)r * n_in;
    float* out = e->xc.data() + (size_t)r * k;
    for (int i = 0; i < k; i++) out[i] = row[cols[i]];
  }
  return true;
}

/*
 * From e->active (the columns nonzero in some row of the batch): whether to compact (see
 * compact_input); if so, the active columns' list and count in e->cols and e->k, and W0's rows
 * for them gathered into w0c. Otherwise e->k = 0.
 */
bool use_active_columns(actlab_engine* e) {
  const int n_in = e->in[0];
  const char* active = e->active.data();
  int k = 0;
  for (int j = 0; j < n_in; j++)
    if (active[j]) e->cols[k++] = j;
  if (k == 0 || k > n_in * 85 / 100) {
    e->k = 0;
    return false;
  }
  e->k = k;
  const int* cols = e->cols.data();
  const int U = e->out[0];
  const float* W0 = e->W(0);
  for (int i = 0; i < k; i++) memcpy(e->w0c.data() + (size_t)i * U, W0 + (size_t)cols[i] * U, U * sizeof(float));
  return true;
}

/*
 * The batch of training rows `idx[0..rows)` from the sparse copy of set_data: compacted into xc
 * (as compact_input would make it from the dense rows: the same columns, the same values), or
 * dense into xd when compacting does not pay; labels into yb. Returns the dense input's rows
 * (xd), which the first layer reads only when e->k == 0.
 */
const float* batch_from_rows(actlab_engine* e, const uint32_t* idx, int rows) {
  const int n_in = e->in[0];
  const size_t* ptr = e->data_ptr.data();
  const uint16_t* col = e->data_col.data();
  const float* val = e->data_val.data();
  char* active = e->active.data();
  memset(active, 0, n_in);
  // The rows sit at random places of the copy (the batch is shuffled), and waiting for each
  // row's first cache lines was most of this function's time (perf): so each row's entries are
  // fetched a few rows ahead, columns for the marking below and values for the copy after it.
  constexpr int AHEAD = 4;
  auto prefetch_row = [&](int r) {
    const size_t from = ptr[idx[r]], to = ptr[idx[r] + 1];
    for (size_t p = from; p < to; p += 32) __builtin_prefetch(col + p);
    for (size_t p = from; p < to; p += 16) __builtin_prefetch(val + p);
  };
  for (int r = 0; r < rows && r < AHEAD; r++) prefetch_row(r);
  for (int r = 0; r < rows; r++) {
    if (r + AHEAD < rows) prefetch_row(r + AHEAD);
    e->yb[r] = e->data_y[idx[r]];
    for (size_t p = ptr[idx[r]]; p < ptr[idx[r] + 1]; p++) active[col[p]] = 1;
  }
  if (use_active_columns(e)) {
    const int k = e->k;
    int* pos = e->colpos.data();
    for (int i = 0; i < k; i++) pos[e->cols[i]] = i;
    float* xc = e->xc.data();
    memset(xc, 0, (size_t)rows * k * sizeof(float));
    for (int r = 0; r < rows; r++)
      for (size_t p = ptr[idx[r]]; p < ptr[idx[r] + 1]; p++) xc[(size_t)r * k + pos[col[p]]] = val[p];
  } else {
    float* xd = e->xd.data();
    memset(xd, 0, (size_t)rows * n_in * sizeof(float));
    for (int r = 0; r < rows; r++)
      for (size_t p = ptr[idx[r]]; p < ptr[idx[r] + 1]; p++) xd[(size_t)r * n_in + col[p]] = val[p];
  }
  return e->xd.data();
}

/*
 * Forward to the logits (in z[L]) once the first layer's input is in place (e->k > 0: xc and w0c,
 * else the dense rows x); training draws rrelu's slopes from `seeds`.
 */
void forward_prepared(actlab_engine* e, const float* x, int rows, bool training, const uint32_t* seeds) {
  const int U = e->cfg.units;
  const float* input = x;
  const bool compacted = e->k > 0;
  for (int l = 0; l < e->L; l++) {
    float* z = e->z[l].data();
    if (l == 0 && compacted)
      dense_with(e->xc.data(), e->w0c.data(), e->B(0), rows, e->k, e->out[0], e->blas, z);
    else
      dense(e, l, input, rows, z);
    const float* slopes = nullptr;
    if (e->act.id == ACTLAB_RRELU && training) {
      float* s = e->slopes[l].data();
      const float lo = e->act.p0, span = e->act.p1 - e->act.p0;
      const size_t n = (size_t)rows * U;
      for (size_t i = 0; i < n; i++) {
        const float u = (float)(mix2(seeds[l], (uint32_t)i) >> 8) * (1.0f / 16777216.0f);
        s[i] = lo + span * u;
      }
      slopes = s;
    }
    act_forward(e->act, z, e->h[l].data(), rows, U, slopes, e->A(l));
    input = e->h[l].data();
  }
  dense(e, e->L, input, rows, e->z[e->L].data());
}

/* Forward on the dense rows x (compacted first when that pays). */
void forward(actlab_engine* e, const float* x, int rows, bool training, const uint32_t* seeds) {
  compact_input(e, x, rows);
  forward_prepared(e, x, rows, training, seeds);
}

/*
 * Softmax cross-entropy of the logits: loss summed over rows, correct count (argmax, first
 * maximum wins as in tf.argMax), and, when dlogits is given, ∂(mean loss)/∂logits.
 */
void softmax_ce(actlab_engine* e, const int32_t* y, int rows, double* loss_sum, int* correct, float* dlogits) {
  const int C = e->cfg.classes;
  const float* logits = e->z[e->L].data();
  double sum = 0;
  int right = 0;
  for (int r = 0; r < rows; r++) {
    const float* row = logits + (size_t)r * C;
    int arg = 0;
    float mx = row[0];
    for (int c = 1; c < C; c++)
      if (row[c] > mx) {
        mx = row[c];
        arg = c;
      }
    if (arg == y[r]) right++;
    float se = 0;
    float* p = e->probs.data() + (size_t)r * C;
    for (int c = 0; c < C; c++) {
      p[c] = expf(row[c] - mx);
      se += p[c];
    }
    const float lse = logf(se);
    sum += (double)(lse - (row[y[r]] - mx));
    if (dlogits) {
      const float inv = 1.0f / se, scale = 1.0f / (float)rows;
      float* d = dlogits + (size_t)r * C;
      for (int c = 0; c < C; c++) d[c] = (p[c] * inv - (c == y[r] ? 1.0f : 0.0f)) * scale;
    }
  }
  *loss_sum = sum;
  *correct = right;
}

/*
 * One row of prelu's backward (eq. 8.9–8.10): ∂f/∂x = α for x ≤ 0, and ∂loss/∂α_j gains ∂h·x
 * there. Why SSE by hand: as a branch on x's sign (a coin flip in a trained layer) it
 * mispredicted and made a prelu step cost 50% more than a relu one, and GCC 12 keeps the
 * ∂α accumulation scalar however the select is written. Same results as the branch on x > 0,
 * except that a NaN x adds nothing to ∂α; the tail and other CPUs in plain C.
 */
void prelu_backward_row(const float* __restrict z, float* __restrict d, const float* __restrict alpha,
                        float* __restrict ga, int units) {
  int j = 0;
#if defined(__x86_64__)
  const __m128 zero = _mm_setzero_ps();
  for (; j + 4 <= units; j += 4) {
    const __m128 v = _mm_loadu_ps(z + j), g = _mm_loadu_ps(d + j), a = _mm_loadu_ps(alpha + j);
    const __m128 pos = _mm_cmpgt_ps(v, zero);  // x > 0; false for NaN
    // min(x, 0): x where x ≤ 0, else 0 (minps gives its second operand for NaN).
    _mm_storeu_ps(ga + j, _mm_add_ps(_mm_loadu_ps(ga + j), _mm_mul_ps(g, _mm_min_ps(v, zero))));
    _mm_storeu_ps(d + j, _mm_or_ps(_mm_and_ps(pos, g), _mm_andnot_ps(pos, _mm_mul_ps(g, a))));
  }
#endif
  for (; j < units; j++) {
    if (z[j] > 0.0f) continue;
    ga[j] += d[j] * fminf(z[j], 0.0f);  // as minps: a NaN x adds 0
    d[j] *= alpha[j];
  }
}

/*
 * Gradients of every parameter (into e->grads) from ∂loss/∂logits in e->d0 — or, with `sgd`,
 * plain SGD applied layer by layer as the gradients come out instead (value + (−lr)·g, as
 * tf.train.sgd), so e->grads is not written. Why: a step's separate update pass read and wrote
 * every parameter and gradient again (3.3 MB for the chapter's network, outside the caches'
 * reach once W0 and ∂W0 are both in play), and the first layer's gradient rows were scattered
 * and zeroed only to be added. Fused, each ∂W product adds (−lr)·inputᵀ·d onto W itself
 * (cblas_sgemm with α = −lr, β = 1: one rounding where tf.train rounds g first, a difference in
 * the last bit), and ∂h(l−1) = d·Wᵀ is taken before, from the weights the forward pass used.
 */
void backward(actlab_engine* e, const float* x, int rows, bool training, bool sgd = false) {
  const int U = e->cfg.units;
  const float neg_lr = (float)(-e->cfg.learning_rate);
  const float alpha_w = sgd ? neg_lr : 1.0f, beta_w = sgd ? 1.0f : 0.0f;
  float* d = e->d0.data();      // ∂loss/∂z of layer l
  float* dnext = e->d1.data();  // ∂loss/∂h of layer l-1, then ∂loss/∂z of it
  for (int l = e->L; l >= 0; l--) {
    const int n_in = e->in[l], n_out = e->out[l];
    const float* input = l == 0 ? x : e->h[l - 1].data();
    // ∂h(l-1) = d·Wᵀ (before W changes when fusing the update).
    if (l > 0)
      e->blas->sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n_in, n_out, 1.0f, d, n_out, e->W(l), n_out,
                     0.0f, dnext, n_in);
    // ∂W = inputᵀ·d (or W += (−lr)·inputᵀ·d), ∂b = column sums of d.
    if (l == 0 && e->k > 0) {
      // On the active columns only (compact_input), into w0c: W0's active rows as forward
      // gathered them, updated in place when fusing, else overwritten by their gradient. Then each
      // active row goes to its place; the zero columns' gradient rows are 0 (and their weights
      // stay as they are: adding (−lr)·0 changes nothing).
      const int k = e->k;
      e->blas->sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n_out, rows, alpha_w, e->xc.data(), k, d, n_out,
                     beta_w, e->w0c.data(), n_out);
      float* g = sgd ? e->W(0) : e->gW(0);
      const int* cols = e->cols.data();
      if (sgd) {
        for (int i = 0; i < k; i++)
          memcpy(g + (size_t)cols[i] * n_out, e->w0c.data() + (size_t)i * n_out, n_out * sizeof(float));
      } else {
        const char* active = e->active.data();
        for (int j = 0, i = 0; j < n_in; j++) {
          float* dst = g + (size_t)j * n_out;
          if (active[j])
            memcpy(dst, e->w0c.data() + (size_t)(i++) * n_out, n_out * sizeof(float));
          else
            memset(dst, 0, n_out * sizeof(float));
        }
      }
    } else {
      e->blas->sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in, n_out, rows, alpha_w, input, n_in, d, n_out,
                     beta_w, sgd ? e->W(l) : e->gW(l), n_out);
    }
    float* gb = e->gB(l);
    std::fill(gb, gb + n_out, 0.0f);
    for (int r = 0; r < rows; r++)
      for (int j = 0; j < n_out; j++) gb[j] += d[(size_t)r * n_out + j];
    if (sgd) {
      float* b = e->B(l);
      for (int j = 0; j < n_out; j++) b[j] = neg_lr * gb[j] + b[j];
    }
    if (l == 0) break;  // the input's gradient is not needed
    // ∂h(l-1) through the activation of layer l-1.
    const int k = l - 1;
    const float* z = e->z[k].data();
    const float* h = e->h[k].data();
    const float* alpha = e->A(k);
    const bool random = e->act.id == ACTLAB_RRELU && training;
    const float* slopes = random ? e->slopes[k].data() : nullptr;
    if (e->act.id == ACTLAB_PRELU) {
      // eq. 8.9–8.10: ∂f/∂x = α for x ≤ 0; ∂loss/∂α_j = Σ over rows of ∂h·x where x ≤ 0.
      float* ga = e->gA(k);
      std::fill(ga, ga + U, 0.0f);
      for (int r = 0; r < rows; r++) prelu_backward_row(z + (size_t)r * U, dnext + (size_t)r * U, alpha, ga, U);
      if (sgd) {
        float* a = e->A(k);
        for (int j = 0; j < U; j++) a[j] = neg_lr * ga[j] + a[j];
      }
    } else if (e->act.id == ACTLAB_RELU) {
      const size_t n = (size_t)rows * U;
      // A select, not a branch: z > 0 is a coin flip per element, and the branch mispredicted
      // (perf: this loop was a tenth of a relu step); the select vectorises.
      for (size_t i = 0; i < n; i++) dnext[i] = z[i] > 0.0f ? dnext[i] : 0.0f;
    } else if (e->act.id == ACTLAB_LEAKY_RELU || e->act.id == ACTLAB_RRELU) {
      // The same select with the negative side's slope: leaky's α, rrelu's drawn slopes while
      // training or their mean (through act_df each was a switch and a branch per element).
      const size_t n = (size_t)rows * U;
      if (slopes)
        for (size_t i = 0; i < n; i++) {
          const float d = dnext[i], s = slopes[i];  // both loads unconditional: a select
          dnext[i] = z[i] > 0.0f ? d : s * d;
        }
      else {
        const float s = e->act.id == ACTLAB_LEAKY_RELU ? e->act.p0 : e->act.rrelu_mean;
        for (size_t i = 0; i < n; i++) dnext[i] = z[i] > 0.0f ? dnext[i] : s * dnext[i];
      }
    } else if (e->act.id == ACTLAB_ELU || e->act.id == ACTLAB_SELU) {
      // f′ from the stored output instead of a scalar expf per element: for z ≤ 0, h = c(e^z − 1),
      // so c·e^z = h + c (c = α for elu, λα for selu; TF.js's EluGrad uses the same identity).
      const size_t n = (size_t)rows * U;
      const bool elu = e->act.id == ACTLAB_ELU;
      const float pos = elu ? 1.0f : (float)SELU_LAMBDA;
      const float c = elu ? e->act.p0 : (float)(SELU_LAMBDA * SELU_ALPHA);
      for (size_t i = 0; i < n; i++) dnext[i] *= z[i] > 0.0f ? pos : h[i] + c;
    } else if (e->act.id != ACTLAB_LINEAR) {
      const float mean = e->act.rrelu_mean;
      const size_t n = (size_t)rows * U;
      for (size_t i = 0; i < n; i++) dnext[i] *= act_df(e->act, z[i], h[i], slopes ? slopes[i] : mean);
    }
    std::swap(d, dnext);
  }
}

void update(actlab_engine* e) {
  const auto& c = e->cfg;
  const size_t P = e->param_floats;
  float* v = e->state.data();
  const float* g = e->grads.data();
  const float neg_lr = (float)(-c.learning_rate);
  switch (c.optimizer) {
    case ACTLAB_SGD:
      // tf.train.sgd (value + (−lr)·g) is applied inside backward, fused with the products.
      break;
    case ACTLAB_MOMENTUM: {
      // tf.train.momentum: acc = m·acc + g; value = (−lr)·acc + value
      const float m = (float)c.momentum;
      float* acc = v + P;
      for (size_t i = 0; i < P; i++) {
        acc[i] = m * acc[i] + g[i];
        v[i] = neg_lr * acc[i] + v[i];
      }
      break;
    }
    case ACTLAB_ADAM: {
      // tf.train.adam, op by op: m = m·β₁ + g·(1−β₁); s = s·β₂ + g²·(1−β₂);
      // value = (m / (1 − β₁ᵗ)) / (√(s / (1 − β₂ᵗ)) + ε) · (−lr) + value; then β₁ᵗ ·= β₁, β₂ᵗ ·= β₂.
      const float b1 = (float)c.beta1, b2 = (float)c.beta2;
      const float omb1 = (float)(1.0 - c.beta1), omb2 = (float)(1.0 - c.beta2);
      const float eps = (float)c.epsilon;
      const float c1 = 1.0f - e->acc_beta1, c2 = 1.0f - e->acc_beta2;
      float* m = v + P;
      float* s = v + 2 * P;
      for (size_t i = 0; i < P; i++) {
        m[i] = m[i] * b1 + g[i] * omb1;
        s[i] = s[i] * b2 + (g[i] * g[i]) * omb2;
        v[i] = ((m[i] / c1) / (sqrtf(s[i] / c2) + eps)) * neg_lr + v[i];
      }
      e->acc_beta1 *= b1;
      e->acc_beta2 *= b2;
      break;
    }
  }
  e->iterations += 1;
}

bool valid_config(const actlab_config* c, char* err) {
  auto bad = [&](const char* what) {
    snprintf(err, ACTLAB_ERROR_LEN, "invalid engine config: %s", what);
    return false;
  };
  if (c->input_size < 1 || c->input_size > 1 << 20) return bad("input_size");
  if (c->units < 1 || c->units > 1 << 14) return bad("units");
  if (c->hidden_layers < 1 || c->hidden_layers > 64) return bad("hidden_layers");
  if (c->classes < 2 || c->classes > 1 << 14) return bad("classes");
  if (c->max_rows < 1 || c->max_rows > 1 << 17) return bad("max_rows");
  if (c->activation < 0 || c->activation >= ACTLAB_ACTIVATION_COUNT) return bad("activation");
  if (c->optimizer < ACTLAB_SGD || c->optimizer > ACTLAB_ADAM) return bad("optimizer");
  if (!(c->learning_rate > 0) || !isfinite(c->learning_rate)) return bad("learning_rate");
  if (!isfinite(c->act_p0) || !isfinite(c->act_p1)) return bad("activation parameters");
  if (c->activation == ACTLAB_RRELU && !(c->act_p0 <= c->act_p1)) return bad("rrelu lower > upper");
  if (!isfinite(c->momentum) || !isfinite(c->beta1) || !isfinite(c->beta2) || !isfinite(c->epsilon))
    return bad("optimizer parameters");
  // Every buffer must stay far below what size_t and the callers' Float32Arrays can index.
  const double widest = std::max({(double)c->input_size, (double)c->units, (double)c->classes});
  if ((double)c->max_rows * widest > 1e9 || widest * widest * (c->hidden_layers + 1) > 1e9) return bad("too large");
  return true;
}

/* Loss, backward and update after a training forward pass on `x` (dense rows, or compacted). */
void finish_step(actlab_engine* e, const float* x, const int32_t* y, int rows, double* loss_mean, int* correct) {
  double sum;
  softmax_ce(e, y, rows, &sum, correct, e->d0.data());
  if (e->cfg.optimizer == ACTLAB_SGD) {
    backward(e, x, rows, true, /*sgd=*/true);
    e->iterations += 1;
  } else {
    backward(e, x, rows, true);
    update(e);
  }
  *loss_mean = sum / rows;
}

}  // namespace

extern "C" {

actlab_engine* actlab_engine_create(const actlab_config* config, char* err) {
  if (!valid_config(config, err)) return nullptr;
  const Blas* blas = actlab::load_blas(err, ACTLAB_ERROR_LEN);
  if (!blas) return nullptr;
  actlab_engine* e = new (std::nothrow) actlab_engine();
  if (!e) {
    fail(err, "out of memory");
    return nullptr;
  }
  try {
    e->cfg = *config;
    e->blas = blas;
    e->L = config->hidden_layers;
    e->act = {config->activation, (float)config->act_p0, (float)config->act_p1,
              (float)((config->act_p0 + config->act_p1) / 2)};
    size_t off = 0;
    for (int l = 0; l <= e->L; l++) {
      const int n_in = l == 0 ? config->input_size : config->units;
      const int n_out = l == e->L ? config->classes : config->units;
      e->in.push_back(n_in);
      e->out.push_back(n_out);
      e->kernel_off.push_back(off);
      off += (size_t)n_in * n_out;
      e->bias_off.push_back(off);
      off += n_out;
      if (l < e->L && config->activation == ACTLAB_PRELU) {
        e->alpha_off.push_back(off);
        off += config->units;
      } else {
        e->alpha_off.push_back(0);
      }
    }
    e->param_floats = off;
    const int slots = config->optimizer == ACTLAB_SGD ? 0 : config->optimizer == ACTLAB_MOMENTUM ? 1 : 2;
    e->state.assign(off * (1 + slots), 0.0f);
    e->grads.assign(off, 0.0f);
    const size_t rows = config->max_rows;
    const size_t widest = std::max(config->units, config->classes);
    e->z.resize(e->L + 1);
    e->h.resize(e->L);
    for (int l = 0; l <= e->L; l++) e->z[l].assign(rows * e->out[l], 0.0f);
    for (int l = 0; l < e->L; l++) e->h[l].assign(rows * config->units, 0.0f);
    if (config->activation == ACTLAB_RRELU) {
      e->slopes.resize(e->L);
      for (int l = 0; l < e->L; l++) e->slopes[l].assign(rows * config->units, 0.0f);
    }
    e->probs.assign(rows * config->classes, 0.0f);
    e->active.assign(config->input_size, 0);
    e->cols.assign(config->input_size, 0);
    e->xc.assign(rows * config->input_size, 0.0f);
    e->w0c.assign((size_t)config->input_size * config->units, 0.0f);
    e->d0.assign(rows * widest, 0.0f);
    e->d1.assign(rows * widest, 0.0f);
    e->acc_beta1 = (float)config->beta1;
    e->acc_beta2 = (float)config->beta2;
  } catch (const std::bad_alloc&) {
    delete e;
    fail(err, "out of memory allocating the engine's buffers");
    return nullptr;
  }
  return e;
}

void actlab_engine_destroy(actlab_engine* e) { delete e; }

const actlab_config* actlab_engine_config(const actlab_engine* e) { return &e->cfg; }
size_t actlab_engine_param_floats(const actlab_engine* e) { return e->param_floats; }
size_t actlab_engine_state_floats(const actlab_engine* e) { return e->state.size(); }
void actlab_engine_get_state(const actlab_engine* e, float* out) {
  memcpy(out, e->state.data(), e->state.size() * sizeof(float));
}
void actlab_engine_set_state(actlab_engine* e, const float* in) {
  memcpy(e->state.data(), in, e->state.size() * sizeof(float));
}
void actlab_engine_get_scalars(const actlab_engine* e, double out[3]) {
  out[0] = e->iterations;
  out[1] = e->acc_beta1;
  out[2] = e->acc_beta2;
}
void actlab_engine_set_scalars(actlab_engine* e, const double in[3]) {
  e->iterations = in[0];
  e->acc_beta1 = (float)in[1];
  e->acc_beta2 = (float)in[2];
}

int actlab_engine_set_data(actlab_engine* e, const float* x, const int32_t* y, int rows, char* err) {
  if (rows < 1) {
    fail(err, "rows must be at least 1");
    return -1;
  }
  if (!check_labels(e, y, rows, err)) return -1;
  const int n_in = e->cfg.input_size;
  if (n_in > 65535) {
    fail(err, "setData takes inputs of at most 65,535 columns");
    return -1;
  }
  try {
    size_t nnz = 0;
    for (size_t i = 0, n = (size_t)rows * n_in; i < n; i++) nnz += x[i] != 0.0f;
    e->data_ptr.assign((size_t)rows + 1, 0);
    e->data_col.resize(nnz);
    e->data_val.resize(nnz);
    e->data_y.assign(y, y + rows);
    size_t p = 0;
    for (int r = 0; r < rows; r++) {
      const float* row = x + (size_t)r * n_in;
      for (int j = 0; j < n_in; j++)
        if (row[j] != 0.0f) {  // as compact_input: NaN and ±inf are nonzero, ±0 are zero
          e->data_col[p] = (uint16_t)j;
          e->data_val[p++] = row[j];
        }
      e->data_ptr[(size_t)r + 1] = p;
    }
    e->colpos.assign(n_in, 0);
    e->xd.assign((size_t)e->cfg.max_rows * n_in, 0.0f);
    e->yb.assign(e->cfg.max_rows, 0);
  } catch (const std::bad_alloc&) {
    e->data_rows = 0;
    fail(err, "out of memory copying the training set");
    return -1;
  }
  e->data_rows = rows;
  return 0;
}

int actlab_engine_train_rows(actlab_engine* e, const uint32_t* indices, int count, const uint32_t* rrelu_seeds,
                             double* loss_mean, int* correct, char* err) {
  if (!check_rows(e, count, err)) return -1;
  if (e->data_rows == 0) {
    fail(err, "no training set: call setData first");
    return -1;
  }
  for (int i = 0; i < count; i++)
    if (indices[i] >= (uint32_t)e->data_rows) {
      snprintf(err, ACTLAB_ERROR_LEN, "row index %u at %d is outside the training set's %d rows", indices[i], i,
               e->data_rows);
      return -1;
    }
  if (e->act.id == ACTLAB_RRELU && !rrelu_seeds) {
    fail(err, "rrelu needs one seed per hidden layer");
    return -1;
  }
  const float* x = batch_from_rows(e, indices, count);
  forward_prepared(e, x, count, true, rrelu_seeds);
  finish_step(e, x, e->yb.data(), count, loss_mean, correct);
  return 0;
}

int actlab_engine_train_batch(actlab_engine* e, const float* x, const int32_t* y, int rows,
                              const uint32_t* rrelu_seeds, double* loss_mean, int* correct, char* err) {
  if (!check_rows(e, rows, err) || !check_labels(e, y, rows, err)) return -1;
  if (e->act.id == ACTLAB_RRELU && !rrelu_seeds) {
    fail(err, "rrelu needs one seed per hidden layer");
    return -1;
  }
  forward(e, x, rows, true, rrelu_seeds);
  finish_step(e, x, y, rows, loss_mean, correct);
  return 0;
}

int actlab_engine_evaluate(actlab_engine* e, const float* x, const int32_t* y, int rows, double* loss_sum,
                           int* correct, char* err) {
  if (rows < 1) {
    fail(err, "rows must be at least 1");
    return -1;
  }
  if (!check_labels(e, y, rows, err)) return -1;
  double total = 0;
  int right = 0;
  for (int from = 0; from < rows; from += e->cfg.max_rows) {
    const int count = std::min(e->cfg.max_rows, rows - from);
    forward(e, x + (size_t)from * e->cfg.input_size, count, false, nullptr);
    double s;
    int c;
    softmax_ce(e, y + from, count, &s, &c, nullptr);
    total += s;
    right += c;
  }
  *loss_sum = total;
  *correct = right;
  return 0;
}

int actlab_engine_probe(actlab_engine* e, const float* x, const int32_t* y, int rows, float* pre_out,
                        double* grad_norms, char* err) {
  if (!check_rows(e, rows, err) || !check_labels(e, y, rows, err)) return -1;
  forward(e, x, rows, false, nullptr);
  double sum;
  int correct;
  softmax_ce(e, y, rows, &sum, &correct, e->d0.data());
  backward(e, x, rows, false);
  for (int l = 0; l <= e->L; l++) {
    const float* g = e->gW(l);
    const size_t n = (size_t)e->in[l] * e->out[l];
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    grad_norms[l] = sqrt(s);
  }
  const size_t per = (size_t)rows * e->cfg.units;
  for (int l = 0; l < e->L; l++) memcpy(pre_out + l * per, e->z[l].data(), per * sizeof(float));
  return 0;
}

int actlab_activation_eval(int id, double p0, double p1, const float* x, size_t n, float* f, float* df,
                           float* dalpha, char* err) {
  if (id < 0 || id >= ACTLAB_ACTIVATION_COUNT) {
    fail(err, "unknown activation id");
    return -1;
  }
  const ActParams a = {id, (float)p0, (float)p1, (float)((p0 + p1) / 2)};
  // prelu's α and rrelu's inference slope as the layer would hold them.
  const float slope = id == ACTLAB_PRELU ? (float)p0 : a.rrelu_mean;
  std::vector<float> alpha(1, slope);
  for (size_t i = 0; i < n; i++) {
    act_forward(a, x + i, f + i, 1, 1, nullptr, alpha.data());
    df[i] = act_df(a, x[i], f[i], slope);
    dalpha[i] = id == ACTLAB_PRELU && !(x[i] > 0.0f) ? x[i] : 0.0f;
  }
  return 0;
}

uint32_t actlab_mix_seed2(uint32_t a, uint32_t b) { return mix2(a, b); }

}  // extern "C"
