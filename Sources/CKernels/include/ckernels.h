#pragma once
// Sparrow's hot sparse kernels: AVX-512 or AVX2 + FMA where the CPU has it, portable C otherwise (chosen at load
// time), one thread, Float32, row-major matrices whose rows run over the batch
// (activations are stored feature-major: X[feature * ld + b]). Every kernel has a plain Swift twin in
// NeuralNet/ReferenceKernels.swift, and NeuralNetTests holds one against the other.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The kernel bodies, by instruction set.
enum { SK_ISA_PORTABLE = 0, SK_ISA_AVX2 = 1, SK_ISA_AVX512 = 2 };
/// Which body the kernels below run (an SK_ISA_ value). Chosen before `main` from the CPU: the widest it runs.
int sk_isa(void);
/// The body chosen at load time: the widest this CPU (and build) can run.
int sk_best_isa(void);
/// Switches the body (tests hold each against the twins, benchmarks time each); returns 0 and changes nothing if
/// the CPU (or this build) cannot run it. AVX-512 needs F, BW, DQ and VL with ZMM state enabled by the OS.
int sk_set_isa(int level);

/// Per-connection index arrays (`idx` below) hold 16-bit unsigned entries where `wide` is 0 (a layer whose fans are
/// at most 65 536: every network the papers use) and 32-bit signed ones where it is 1.
///
/// Sparse × dense: for r in 0..<rows, Y[r, 0..<B] = post(bias[r] (or 0 if bias is NULL)
///     + Σ_{k in ptr[r]..<ptr[r+1]} values[k] · X[idx[k], 0..<B]).
/// With CSR arrays this is the forward product W·X; with the CSC arrays (column pointers, row indices) and the
/// values in CSC order (`SparseIndex.gatherTransposed`) it is the transposed product Wᵀ·dY.
/// `post` is fused into the store (G has the same layout and leading dimension as Y; NULL for post < 3):
///   0 none; 1 ReLU max(y, 0); 2 LeakyReLU (y > 0 ? y : slope·y);
///   3 y·[G > 0] (ReLU derivative from its output G); 4 y·(G > 0 ? 1 : slope) (LeakyReLU, slope ≥ 0);
///   5 y·(1 − G²) (tanh derivative from its output G).
void sk_spmm(int rows, const int32_t *ptr, const void *idx, int wide, const float *values,
             const float *X, int ldx, int B, const float *bias, float *Y, int ldy,
             int post, float slope, const float *G);

/// Sampled dense-dense product (weight gradient at live connections only):
/// for each row r and k in ptr[r]..<ptr[r+1]:  G[k] = Σ_b dY[r, b] · X[idx[k], b];
/// and, if rowsum is not NULL, rowsum[r] = Σ_b dY[r, b] (the bias gradient). `idx` as in sk_spmm.
void sk_sddmm(int rows, const int32_t *ptr, const void *idx, int wide, const float *dY, int ldd,
              const float *X, int ldx, int B, float *G, float *rowsum);

/// Adam on n parameters (PyTorch semantics).
///   coupled weight decay (decoupled == 0): g ← g + wd·w;  decoupled (AdamW): w ← w − lr·wd·w first.
///   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  w ← w − (lr / bc1) · m / (√v / √bc2 + eps)
/// mask_mode 0: no mask. 1 ("masked moments"): g, m, v are multiplied by mask before the update and w after.
/// 2 ("unmasked moments"): only w is multiplied by mask after the update.
void sk_adam(int n, float *w, const float *g, float *m, float *v, const float *mask, int mask_mode,
             float lr, float beta1, float beta2, float bc1, float bc2, float eps, float wd, int decoupled);

/// Σ over the batch of each row: out[r] = Σ_b X[r, b]  (bias gradients).
void sk_rowsum(int rows, const float *X, int ldx, int B, float *out);

/// Element-wise activations, branch-free. kind: 0 identity, 1 ReLU, 2 LeakyReLU(slope), 3 tanh.
/// Forward a = f(z); backward dZ = dA ⊙ f′ (ReLU family from z, tanh from a: 1 − a²). In-place calls are fine.
void sk_activation_forward(int kind, float slope, const float *z, float *a, long n);
void sk_activation_backward(int kind, float slope, const float *dA, const float *z, const float *a, float *dZ, long n);

/// Masked-dense soft target update that maintains sparsity (Sokar), in three passes over n entries:
/// sk_blend_count: t ← tau·o + (1 − tau)·t; returns the non-zeros of t afterwards, *online_nonzero those of o.
long sk_blend_count(long n, float *t, const float *o, float tau, long *online_nonzero);
/// sk_drop_keys: for each non-zero t[i] in order, keys[k++] = (bits(|t[i]|) << 32) | (0xFFFFFFFF − i) — ascending
/// keys order entries by |value|, the higher index first on ties; returns k (keys has room for n).
long sk_drop_keys(long n, const float *t, uint64_t *keys);
/// sk_prune_mask: with prune != 0, zeroes every non-zero t[i] whose drop key is ≤ threshold; then
/// mask[i] = (t[i] ≠ 0).
void sk_prune_mask(long n, float *t, int prune, uint64_t threshold, float *mask);

#ifdef __cplusplus
}
#endif
