// The hot sparse kernels; see include/ckernels.h for the contracts.
//
// Each kernel has up to three bodies: AVX-512 (F, BW, DQ, VL: Skylake-X / Ice Lake / Sapphire and Emerald Rapids,
// Zen 4 and Zen 5), AVX2 + FMA (Haswell / Zen 1 and newer) and portable C. All are compiled into every x86-64 build
// and the CPU picks one at load time (`sk_isa`), so the target needs no compiler flags: SwiftPM refuses packages with
// unsafe flags as versioned dependencies, and a binary built here also runs (slower) on an x86-64 CPU without AVX2.
// The vector bodies get their instruction sets from a function attribute applied to the regions between the
// `SK_AVX2_BEGIN` / `SK_AVX512_BEGIN` and `SK_..._END` pragmas, not from -mavx2 / -mavx512f. The two vector bodies
// are one source, kernels_body.h, included once per instruction set over its vector vocabulary (as conv.c does).
//
// Numerics: no fast-math and no contraction (`fp contract(off)`), so each body's result is fixed by its code; the
// bodies may differ in the last bits (different summation orders). A CPU always runs the same body, so runs stay
// reproducible. Where it costs nothing the AVX-512 body keeps the AVX2 body's per-element order and so its exact
// results: the sparse product (`sk_spmm`: each output column sums its connections in the same chains), Adam, the
// activations and the masked-dense target update. The weight gradient (`sk_sddmm`) and `sk_rowsum` sum over the
// batch in 16 lanes instead of 8 (and rowsum adds its tail in lanes, not one by one), so an AVX-512 machine's
// gradients differ from an AVX2 machine's in the last bits. Tests hold every body against the plain Swift twins
// (NeuralNet/ReferenceKernels.swift) and the AVX-512 spmm, Adam and activations bit-for-bit against the AVX2 ones.
#include "ckernels.h"
#include "cplatform.h"
#pragma clang fp contract(off)
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define SK_HAVE_AVX2 1
#define SK_HAVE_AVX512 1
#define SK_AVX2_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define SK_AVX2_END _Pragma("clang attribute pop")
#define SK_AVX512_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl\"))), apply_to = function)")
#define SK_AVX512_END _Pragma("clang attribute pop")
#else
#define SK_HAVE_AVX2 0
#define SK_HAVE_AVX512 0
#endif

// The body in use: SK_ISA_AVX512, SK_ISA_AVX2 or SK_ISA_PORTABLE. Chosen once before `main`; tests and benchmarks
// switch it with sk_set_isa.
static int isa = SK_ISA_PORTABLE;

static int isa_supported(int level) {
    switch (level) {
    case SK_ISA_PORTABLE: return 1;
    case SK_ISA_AVX2: return SK_HAVE_AVX2 && sp_cpu()->avx2_fma;
    case SK_ISA_AVX512: return SK_HAVE_AVX512 && sp_cpu()->avx512;
    default: return 0;
    }
}

__attribute__((constructor)) static void choose_isa(void) {
    isa = isa_supported(SK_ISA_AVX512) ? SK_ISA_AVX512 : isa_supported(SK_ISA_AVX2) ? SK_ISA_AVX2 : SK_ISA_PORTABLE;
}

int sk_isa(void) { return isa; }

int sk_best_isa(void) {
    return isa_supported(SK_ISA_AVX512) ? SK_ISA_AVX512 : isa_supported(SK_ISA_AVX2) ? SK_ISA_AVX2 : SK_ISA_PORTABLE;
}

int sk_set_isa(int level) {
    if (!isa_supported(level)) return 0;
    isa = level;
    return 1;
}

// Portable bodies (rowsum's is also the scalar tail of the AVX2 one). `SK_INLINE` bodies are inlined into a vector
// body too, where the compiler may vectorise them with the wider instructions.
#define SK_INLINE static inline __attribute__((always_inline))

static inline float post1(int op, float v, const float *g, float slope) {
    switch (op) {
    case 1: return v > 0 ? v : 0.0f;
    case 2: return v > 0 ? v : slope * v;
    case 3: return *g > 0 ? v : 0.0f;
    case 4: return v * (*g > 0 ? 1.0f : slope);
    case 5: return v * (1.0f - *g * *g);
    default: return v;
    }
}

// Entry k of a per-connection index array, 16-bit (wide == 0) or 32-bit: `wide` is a compile-time constant in every
// body after inlining (each public kernel calls its body once per width), so the loops carry no branch on it.
#define IX(p, k) (wide ? ((const int32_t *)(p))[k] : (int32_t)((const uint16_t *)(p))[k])

// Batch 1 (acting): a gather dot product per row, four independent chains. Gather-bound: one body for both.
SK_INLINE void spmv(int rows, const int32_t *ptr, const void *idx, int wide, const float *values,
                    const float *x, const float *bias, float *y, int ldy, int post, float slope, const float *G) {
    for (int r = 0; r < rows; r++) {
        int k = ptr[r], e = ptr[r + 1];
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; k + 4 <= e; k += 4) {
            s0 += values[k] * x[IX(idx, k)];
            s1 += values[k + 1] * x[IX(idx, k + 1)];
            s2 += values[k + 2] * x[IX(idx, k + 2)];
            s3 += values[k + 3] * x[IX(idx, k + 3)];
        }
        for (; k < e; k++) s0 += values[k] * x[IX(idx, k)];
        y[(long)r * ldy] = post1(post, (bias ? bias[r] : 0.0f) + ((s0 + s1) + (s2 + s3)), G ? G + (long)r * ldy : &y[(long)r * ldy], slope);
    }
}

SK_INLINE void spmm_plain(int rows, const int32_t *ptr, const void *idx, int wide, const float *values,
                          const float *X, int ldx, int B, const float *bias, float *Y, int ldy, int post, float slope,
                          const float *G) {
    for (int r = 0; r < rows; r++) {
        float *y = Y + (long)r * ldy;
        const float b = bias ? bias[r] : 0.0f;
        for (int c = 0; c < B; c++) y[c] = b;
        for (int k = ptr[r]; k < ptr[r + 1]; k++) {
            const float w = values[k];
            const float *x = X + (long)IX(idx, k) * ldx;
            for (int c = 0; c < B; c++) y[c] += w * x[c];
        }
        for (int c = 0; c < B; c++) y[c] = post1(post, y[c], G ? G + (long)r * ldy + c : &y[c], slope);
    }
}

SK_INLINE void rowsum_plain_from(int c, const float *x, int B, float s, float *out) {
    for (; c < B; c++) s += x[c];
    *out = s;
}

static void rowsum_plain(int rows, const float *X, int ldx, int B, float *out) {
    for (int r = 0; r < rows; r++) rowsum_plain_from(0, X + (long)r * ldx, B, 0.0f, out + r);
}

SK_INLINE void sddmm_plain(int rows, const int32_t *ptr, const void *idx, int wide, const float *dY, int ldd,
                           const float *X, int ldx, int B, float *G, float *rowsum) {
    if (rowsum) rowsum_plain(rows, dY, ldd, B, rowsum);
    for (int r = 0; r < rows; r++) {
        const float *d = dY + (long)r * ldd;
        for (int k = ptr[r]; k < ptr[r + 1]; k++) {
            const float *x = X + (long)IX(idx, k) * ldx;
            float s = 0;
            for (int c = 0; c < B; c++) s += d[c] * x[c];
            G[k] = s;
        }
    }
}

// Adam from element i on (the portable body runs it from 0).
SK_INLINE void adam_plain_from(int i, int n, float *w, const float *g, float *m, float *v, const float *mask,
                               int mask_mode, float beta1, float beta2, float ob1, float ob2, float step, float rbc2,
                               float eps, float decay, float cwd) {
    for (; i < n; i++) {
        float wi = w[i], gi = g[i], mi = m[i], vi = v[i], k = mask_mode ? mask[i] : 1.0f;
        if (mask_mode == 1) { gi *= k; mi *= k; vi *= k; }
        wi *= decay;
        gi = fmaf(cwd, wi, gi);
        mi = fmaf(beta1, mi, ob1 * gi);
        vi = fmaf(beta2, vi, ob2 * (gi * gi));
        const float den = sqrtf(vi) * rbc2 + eps;
        wi = wi - step * (mi / den);
        if (mask_mode) wi *= k;
        w[i] = wi; m[i] = mi; v[i] = vi;
    }
}

SK_INLINE void leaky_forward_from(long i, float s, const float *z, float *a, long n) {
    for (; i < n; i++) a[i] = z[i] > 0 ? z[i] : s * z[i];
}
SK_INLINE void tanh_backward_from(long i, const float *dA, const float *a, float *dZ, long n) {
    for (; i < n; i++) dZ[i] = dA[i] * (1.0f - a[i] * a[i]);
}
SK_INLINE void leaky_backward_from(long i, float s, const float *dA, const float *z, float *dZ, long n) {
    for (; i < n; i++) dZ[i] = dA[i] * (z[i] > 0 ? 1.0f : s);
}

// Maintain-sparsity target update (masked-dense). Plain loops without branches on "is this entry live" (live
// entries are scattered, so such a branch would mispredict about as often as it is taken); the compiler
// vectorises the first and last.
static inline uint32_t magnitude_bits(float v) {
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b & 0x7FFFFFFFu;
}

SK_INLINE long blend_count_body(long n, float *t, const float *o, float tau, long *online_nonzero) {
    const float keep = 1.0f - tau;
    long nz = 0, onz = 0;
    for (long i = 0; i < n; i++) {
        const float v = tau * o[i] + keep * t[i];
        t[i] = v;
        nz += v != 0.0f;
        onz += o[i] != 0.0f;
    }
    *online_nonzero = onz;
    return nz;
}

SK_INLINE long drop_keys_body(long n, const float *t, uint64_t *keys) {
    long k = 0;
    for (long i = 0; i < n; i++) {
        keys[k] = ((uint64_t)magnitude_bits(t[i]) << 32) | (uint64_t)(0xFFFFFFFFu - (uint32_t)i);
        k += t[i] != 0.0f;
    }
    return k;
}

SK_INLINE void prune_mask_body(long n, float *t, int prune, uint64_t threshold, float *mask) {
    if (prune) {
        // key ≤ threshold  ⇔  |v| bits < tb, or |v| bits == tb and i ≥ ti (the low half is 0xFFFFFFFF − i).
        const uint32_t tb = (uint32_t)(threshold >> 32);
        const uint32_t ti = 0xFFFFFFFFu - (uint32_t)(threshold & 0xFFFFFFFFu);
        for (long i = 0; i < n; i++) {
            const uint32_t b = magnitude_bits(t[i]);
            const int drop = t[i] != 0.0f && (b < tb || (b == tb && (uint32_t)i >= ti));
            t[i] = drop ? 0.0f : t[i];
        }
    }
    for (long i = 0; i < n; i++) mask[i] = t[i] != 0.0f ? 1.0f : 0.0f;
}

// MARK: - vector bodies: kernels_body.h over each instruction set's vocabulary (vector_isa.h)

#if SK_HAVE_AVX2
SK_AVX2_BEGIN
#define SK_VECTOR_AVX2
#include "vector_isa.h"
// Eight horizontal sums at once: r[j] = Σ lanes of a_j (the AVX-512 body's too, after VFOLD8).
static inline __m256 hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3,
                           __m256 a4, __m256 a5, __m256 a6, __m256 a7) {
    __m256 t0 = _mm256_hadd_ps(a0, a1), t1 = _mm256_hadd_ps(a2, a3);
    __m256 t2 = _mm256_hadd_ps(a4, a5), t3 = _mm256_hadd_ps(a6, a7);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    __m256 lo = _mm256_permute2f128_ps(u0, u1, 0x20), hi = _mm256_permute2f128_ps(u0, u1, 0x31);
    return _mm256_add_ps(lo, hi);
}
#define KB(name) name##_avx2
#define VSUM_TAIL_IN_LANES 0
#include "kernels_body.h"
SK_AVX2_END
#endif

#if SK_HAVE_AVX512
SK_AVX512_BEGIN
#define SK_VECTOR_AVX512
#include "vector_isa.h"
#define KB(name) name##_avx512
#define VSUM_TAIL_IN_LANES 1
#include "kernels_body.h"
SK_AVX512_END
#include "vector_isa.h"
#endif

// MARK: - the public kernels: pick the body

// Each width gets its own copy of an inlined body (the `IX` branch folds away): `SK_BOTH_WIDTHS(call)` expands
// `call` with `wide` the constant 1 or 0. The vector bodies split by width inside their instruction-set regions.
#define SK_BOTH_WIDTHS(call) do { if (wide) call(1); else call(0); } while (0)

void sk_spmm(int rows, const int32_t *ptr, const void *idx, int wide, const float *values,
             const float *X, int ldx, int B, const float *bias, float *Y, int ldy,
             int post, float slope, const float *G) {
#define SPMV(W) spmv(rows, ptr, idx, W, values, X, bias, Y, ldy, post, slope, G)
#define SPMM(NAME, W) NAME(rows, ptr, idx, W, values, X, ldx, B, bias, Y, ldy, post, slope, G)
#define SPMM_PLAIN(W) SPMM(spmm_plain, W)
    if (B == 1) { SK_BOTH_WIDTHS(SPMV); return; }
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { SPMM(spmm_avx512, wide); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { SPMM(spmm_avx2, wide); return; }
#endif
    SK_BOTH_WIDTHS(SPMM_PLAIN);
}

void sk_sddmm(int rows, const int32_t *ptr, const void *idx, int wide, const float *dY, int ldd,
              const float *X, int ldx, int B, float *G, float *rowsum) {
#define SDDMM(NAME, W) NAME(rows, ptr, idx, W, dY, ldd, X, ldx, B, G, rowsum)
#define SDDMM_PLAIN(W) SDDMM(sddmm_plain, W)
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { SDDMM(sddmm_avx512, wide); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { SDDMM(sddmm_avx2, wide); return; }
#endif
    SK_BOTH_WIDTHS(SDDMM_PLAIN);
}

void sk_adam(int n, float *w, const float *g, float *m, float *v, const float *mask, int mask_mode,
             float lr, float beta1, float beta2, float bc1, float bc2, float eps, float wd, int decoupled) {
    const float step = lr / bc1, rbc2 = 1.0f / sqrtf(bc2), decay = decoupled ? 1.0f - lr * wd : 1.0f;
    const float cwd = decoupled ? 0.0f : wd, ob1 = 1.0f - beta1, ob2 = 1.0f - beta2;
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { adam_avx512(n, w, g, m, v, mask, mask_mode, beta1, beta2, ob1, ob2, step, rbc2, eps, decay, cwd); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { adam_avx2(n, w, g, m, v, mask, mask_mode, beta1, beta2, ob1, ob2, step, rbc2, eps, decay, cwd); return; }
#endif
    adam_plain_from(0, n, w, g, m, v, mask, mask_mode, beta1, beta2, ob1, ob2, step, rbc2, eps, decay, cwd);
}

void sk_rowsum(int rows, const float *X, int ldx, int B, float *out) {
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { rowsum_avx512(rows, X, ldx, B, out); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { rowsum_avx2(rows, X, ldx, B, out); return; }
#endif
    rowsum_plain(rows, X, ldx, B, out);
}

void sk_activation_forward(int kind, float slope, const float *z, float *a, long n) {
    if (kind == 0) { if (a != z) memmove(a, z, (size_t)n * sizeof(float)); return; }
    if (kind == 3) { for (long i = 0; i < n; i++) a[i] = tanhf(z[i]); return; }
    const float s = kind == 1 ? 0.0f : slope;
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { leaky_forward_avx512(s, z, a, n); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { leaky_forward_avx2(s, z, a, n); return; }
#endif
    leaky_forward_from(0, s, z, a, n);
}

void sk_activation_backward(int kind, float slope, const float *dA, const float *z, const float *a, float *dZ, long n) {
    if (kind == 0) { if (dZ != dA) memmove(dZ, dA, (size_t)n * sizeof(float)); return; }
    const float s = kind == 1 ? 0.0f : slope;
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) {
        if (kind == 3) tanh_backward_avx512(dA, a, dZ, n);
        else leaky_backward_avx512(s, dA, z, dZ, n);
        return;
    }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) {
        if (kind == 3) tanh_backward_avx2(dA, a, dZ, n);
        else leaky_backward_avx2(s, dA, z, dZ, n);
        return;
    }
#endif
    if (kind == 3) tanh_backward_from(0, dA, a, dZ, n);
    else leaky_backward_from(0, s, dA, z, dZ, n);
}

long sk_blend_count(long n, float *t, const float *o, float tau, long *online_nonzero) {
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) return blend_count_avx512(n, t, o, tau, online_nonzero);
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) return blend_count_avx2(n, t, o, tau, online_nonzero);
#endif
    return blend_count_body(n, t, o, tau, online_nonzero);
}

long sk_drop_keys(long n, const float *t, uint64_t *keys) {
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) return drop_keys_avx512(n, t, keys);
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) return drop_keys_avx2(n, t, keys);
#endif
    return drop_keys_body(n, t, keys);
}

void sk_prune_mask(long n, float *t, int prune, uint64_t threshold, float *mask) {
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { prune_mask_avx512(n, t, prune, threshold, mask); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { prune_mask_avx2(n, t, prune, threshold, mask); return; }
#endif
    prune_mask_body(n, t, prune, threshold, mask);
}
