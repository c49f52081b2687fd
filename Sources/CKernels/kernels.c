// The hot sparse kernels; see include/ckernels.h for the contracts.
//
// Each kernel has up to three bodies: AVX-512 (F, BW, DQ, VL: Skylake-X / Ice Lake / Sapphire and Emerald Rapids,
// Zen 4 and Zen 5), AVX2 + FMA (Haswell / Zen 1 and newer) and portable C. All are compiled into every x86-64 build
// and the CPU picks one at load time (`sk_isa`), so the target needs no compiler flags: SwiftPM refuses packages with
// unsafe flags as versioned dependencies, and a binary built here also runs (slower) on an x86-64 CPU without AVX2.
// The vector bodies get their instruction sets from a function attribute applied to the regions between the
// `SK_AVX2_BEGIN` / `SK_AVX512_BEGIN` and `SK_..._END` pragmas, not from -mavx2 / -mavx512f.
//
// Numerics: no fast-math and no contraction (`fp contract(off)`), so each body's result is fixed by its code; the
// bodies may differ in the last bits (different summation orders). A CPU always runs the same body, so runs stay
// reproducible. Where it costs nothing the AVX-512 body keeps the AVX2 body's per-element order and so its exact
// results: the sparse product (`sk_spmm`: each output column sums its connections in the same chains), Adam and the
// activations. The weight gradient (`sk_sddmm`) and `sk_rowsum` sum over the batch in 16 lanes instead of 8, so an
// AVX-512 machine's gradients differ from an AVX2 machine's in the last bits. Tests hold every body against the
// plain Swift twins (NeuralNet/ReferenceKernels.swift) and the AVX-512 spmm, Adam and activations bit-for-bit
// against the AVX2 ones.
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

// Portable bodies (also the scalar tails of the AVX2 ones). `SK_INLINE` bodies are inlined into an AVX2 caller
// too, where the compiler may vectorise them with the wider instructions.
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

#define WK(k) (perm ? values[perm[k]] : values[k])

// Batch 1 (acting): a gather dot product per row, four independent chains. Gather-bound: one body for both.
static void spmv(int rows, const int32_t *ptr, const int32_t *idx, const float *values, const int32_t *perm,
                 const float *x, const float *bias, float *y, int ldy, int post, float slope, const float *G) {
    for (int r = 0; r < rows; r++) {
        int k = ptr[r], e = ptr[r + 1];
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; k + 4 <= e; k += 4) {
            s0 += WK(k) * x[idx[k]];
            s1 += WK(k + 1) * x[idx[k + 1]];
            s2 += WK(k + 2) * x[idx[k + 2]];
            s3 += WK(k + 3) * x[idx[k + 3]];
        }
        for (; k < e; k++) s0 += WK(k) * x[idx[k]];
        y[(long)r * ldy] = post1(post, (bias ? bias[r] : 0.0f) + ((s0 + s1) + (s2 + s3)), G ? G + (long)r * ldy : &y[(long)r * ldy], slope);
    }
}

static void spmm_plain(int rows, const int32_t *ptr, const int32_t *idx, const float *values, const int32_t *perm,
                       const float *X, int ldx, int B, const float *bias, float *Y, int ldy,
                       int post, float slope, const float *G) {
    for (int r = 0; r < rows; r++) {
        float *y = Y + (long)r * ldy;
        const float b = bias ? bias[r] : 0.0f;
        for (int c = 0; c < B; c++) y[c] = b;
        for (int k = ptr[r]; k < ptr[r + 1]; k++) {
            const float w = WK(k);
            const float *x = X + (long)idx[k] * ldx;
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

static void sddmm_plain(int rows, const int32_t *ptr, const int32_t *idx, const float *dY, int ldd,
                        const float *X, int ldx, int B, float *G, float *rowsum) {
    if (rowsum) rowsum_plain(rows, dY, ldd, B, rowsum);
    for (int r = 0; r < rows; r++) {
        const float *d = dY + (long)r * ldd;
        for (int k = ptr[r]; k < ptr[r + 1]; k++) {
            const float *x = X + (long)idx[k] * ldx;
            float s = 0;
            for (int c = 0; c < B; c++) s += d[c] * x[c];
            G[k] = s;
        }
    }
}

// Adam from element i on (the whole array in the portable body, the tail in the AVX2 one).
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

#if SK_HAVE_AVX2
SK_AVX2_BEGIN
// Lane mask for a tail of n (0 < n < 8) floats.
static inline __m256i tail_mask(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

// Eight horizontal sums at once: r[j] = Σ lanes of a_j.
static inline __m256 hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3,
                           __m256 a4, __m256 a5, __m256 a6, __m256 a7) {
    __m256 t0 = _mm256_hadd_ps(a0, a1), t1 = _mm256_hadd_ps(a2, a3);
    __m256 t2 = _mm256_hadd_ps(a4, a5), t3 = _mm256_hadd_ps(a6, a7);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    __m256 lo = _mm256_permute2f128_ps(u0, u1, 0x20), hi = _mm256_permute2f128_ps(u0, u1, 0x31);
    return _mm256_add_ps(lo, hi);
}

static inline float hsum1(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// Post-ops fused into the store of a product (see ckernels.h). g points at the same element of G as the output.
static inline __m256 post8(int op, __m256 v, const float *g, __m256 slope) {
    switch (op) {
    case 1: return _mm256_max_ps(v, _mm256_setzero_ps());
    case 2: return _mm256_blendv_ps(_mm256_mul_ps(v, slope), v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
    case 3: return _mm256_and_ps(v, _mm256_cmp_ps(_mm256_loadu_ps(g), _mm256_setzero_ps(), _CMP_GT_OQ));
    case 4: return _mm256_mul_ps(v, _mm256_blendv_ps(slope, _mm256_set1_ps(1.0f),
                                                     _mm256_cmp_ps(_mm256_loadu_ps(g), _mm256_setzero_ps(), _CMP_GT_OQ)));
    case 5: { const __m256 a = _mm256_loadu_ps(g); return _mm256_mul_ps(v, _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_mul_ps(a, a))); }
    default: return v;
    }
}
static inline __m256 post8m(int op, __m256 v, const float *g, __m256 slope, __m256i mk) {
    if (op < 3) return post8(op, v, g, slope);
    const __m256 a = _mm256_maskload_ps(g, mk), z = _mm256_setzero_ps();
    switch (op) {
    case 3: return _mm256_and_ps(v, _mm256_cmp_ps(a, z, _CMP_GT_OQ));
    case 4: return _mm256_mul_ps(v, _mm256_blendv_ps(slope, _mm256_set1_ps(1.0f), _mm256_cmp_ps(a, z, _CMP_GT_OQ)));
    default: return _mm256_mul_ps(v, _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_mul_ps(a, a)));
    }
}

static void spmm_avx2(int rows, const int32_t *ptr, const int32_t *idx, const float *values, const int32_t *perm,
                      const float *X, int ldx, int B, const float *bias, float *Y, int ldy,
                      int post, float slope, const float *G) {
    const __m256 vslope = _mm256_set1_ps(slope);
    for (int r = 0; r < rows; r++) {
        const float *g = G ? G + (long)r * ldy : Y + (long)r * ldy;  // only read when post >= 3
#define ST(off, expr) _mm256_storeu_ps(y + c + (off), post8(post, (expr), g + c + (off), vslope))
        const int kb = ptr[r], ke = ptr[r + 1];
        const __m256 b0 = _mm256_set1_ps(bias ? bias[r] : 0.0f);
        float *y = Y + (long)r * ldy;
        int c = 0;
        // 64 batch columns in 8 accumulators: broadcast w, FMA with the X row chunk.
        for (; c + 64 <= B; c += 64) {
            __m256 a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0;
            for (int k = kb; k < ke; k++) {
                const __m256 w = _mm256_set1_ps(WK(k));
                const float *x = X + (long)idx[k] * ldx + c;
                a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x), a0);
                a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 8), a1);
                a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 16), a2);
                a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 24), a3);
                a4 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 32), a4);
                a5 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 40), a5);
                a6 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 48), a6);
                a7 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 56), a7);
            }
            ST(0, a0); ST(8, a1); ST(16, a2); ST(24, a3); ST(32, a4); ST(40, a5); ST(48, a6); ST(56, a7);
        }
        // 32 columns: two accumulator sets over alternate connections keep 8 FMA chains in flight.
        for (; c + 32 <= B; c += 32) {
            __m256 a0 = b0, a1 = b0, a2 = b0, a3 = b0;
            __m256 z = _mm256_setzero_ps(), e0 = z, e1 = z, e2 = z, e3 = z;
            int k = kb;
            for (; k + 2 <= ke; k += 2) {
                const __m256 w = _mm256_set1_ps(WK(k)), v = _mm256_set1_ps(WK(k + 1));
                const float *x = X + (long)idx[k] * ldx + c, *u = X + (long)idx[k + 1] * ldx + c;
                a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x), a0);
                a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 8), a1);
                a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 16), a2);
                a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 24), a3);
                e0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(u), e0);
                e1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(u + 8), e1);
                e2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(u + 16), e2);
                e3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(u + 24), e3);
            }
            if (k < ke) {
                const __m256 w = _mm256_set1_ps(WK(k));
                const float *x = X + (long)idx[k] * ldx + c;
                a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x), a0);
                a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 8), a1);
                a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 16), a2);
                a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 24), a3);
            }
            ST(0, _mm256_add_ps(a0, e0)); ST(8, _mm256_add_ps(a1, e1));
            ST(16, _mm256_add_ps(a2, e2)); ST(24, _mm256_add_ps(a3, e3));
        }
        // 8 columns at a time, then a masked tail.
        for (; c < B; c += 8) {
            const int n = B - c < 8 ? B - c : 8;
            const __m256i mk = n == 8 ? _mm256_set1_epi32(-1) : tail_mask(n);
            __m256 a0 = b0, a1 = _mm256_setzero_ps(), a2 = a1, a3 = a1;
            int k = kb;
            for (; k + 4 <= ke; k += 4) {
                a0 = _mm256_fmadd_ps(_mm256_set1_ps(WK(k)), _mm256_maskload_ps(X + (long)idx[k] * ldx + c, mk), a0);
                a1 = _mm256_fmadd_ps(_mm256_set1_ps(WK(k + 1)), _mm256_maskload_ps(X + (long)idx[k + 1] * ldx + c, mk), a1);
                a2 = _mm256_fmadd_ps(_mm256_set1_ps(WK(k + 2)), _mm256_maskload_ps(X + (long)idx[k + 2] * ldx + c, mk), a2);
                a3 = _mm256_fmadd_ps(_mm256_set1_ps(WK(k + 3)), _mm256_maskload_ps(X + (long)idx[k + 3] * ldx + c, mk), a3);
            }
            for (; k < ke; k++)
                a0 = _mm256_fmadd_ps(_mm256_set1_ps(WK(k)), _mm256_maskload_ps(X + (long)idx[k] * ldx + c, mk), a0);
            _mm256_maskstore_ps(y + c, mk, post8m(post, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                                  g + c, vslope, mk));
        }
#undef ST
    }
}

static void rowsum_avx2(int rows, const float *X, int ldx, int B, float *out) {
    for (int r = 0; r < rows; r++) {
        const float *x = X + (long)r * ldx;
        int c = 0;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;
        for (; c + 16 <= B; c += 16) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + c));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + c + 8));
        }
        rowsum_plain_from(c, x, B, hsum1(_mm256_add_ps(a0, a1)), out + r);
    }
}

static void sddmm_avx2(int rows, const int32_t *ptr, const int32_t *idx, const float *dY, int ldd,
                       const float *X, int ldx, int B, float *G, float *rowsum) {
    const int full = B & ~7, rem = B - full;
    const __m256i mk = rem ? tail_mask(rem) : _mm256_setzero_si256();
    for (int r = 0; r < rows; r++) {
        const float *d = dY + (long)r * ldd;
        if (rowsum) rowsum_avx2(1, d, ldd, B, rowsum + r);  // brings dY[r, :] into L1 for the products below
        int k = ptr[r];
        const int ke = ptr[r + 1];
        // Eight connections at a time: dY[r, chunk] loaded once, eight FMA chains, one 8-way horizontal sum.
        for (; k + 8 <= ke; k += 8) {
            const float *x0 = X + (long)idx[k] * ldx, *x1 = X + (long)idx[k + 1] * ldx;
            const float *x2 = X + (long)idx[k + 2] * ldx, *x3 = X + (long)idx[k + 3] * ldx;
            const float *x4 = X + (long)idx[k + 4] * ldx, *x5 = X + (long)idx[k + 5] * ldx;
            const float *x6 = X + (long)idx[k + 6] * ldx, *x7 = X + (long)idx[k + 7] * ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            int c = 0;
            for (; c < full; c += 8) {
                const __m256 g = _mm256_loadu_ps(d + c);
                a0 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x0 + c), a0);
                a1 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x1 + c), a1);
                a2 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x2 + c), a2);
                a3 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x3 + c), a3);
                a4 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x4 + c), a4);
                a5 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x5 + c), a5);
                a6 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x6 + c), a6);
                a7 = _mm256_fmadd_ps(g, _mm256_loadu_ps(x7 + c), a7);
            }
            if (rem) {
                const __m256 g = _mm256_maskload_ps(d + c, mk);
                a0 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x0 + c, mk), a0);
                a1 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x1 + c, mk), a1);
                a2 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x2 + c, mk), a2);
                a3 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x3 + c, mk), a3);
                a4 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x4 + c, mk), a4);
                a5 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x5 + c, mk), a5);
                a6 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x6 + c, mk), a6);
                a7 = _mm256_fmadd_ps(g, _mm256_maskload_ps(x7 + c, mk), a7);
            }
            _mm256_storeu_ps(G + k, hsum8(a0, a1, a2, a3, a4, a5, a6, a7));
        }
        // Remaining connections of the row one by one, two chains each.
        for (; k < ke; k++) {
            const float *x = X + (long)idx[k] * ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            int c = 0;
            for (; c + 16 <= full; c += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(d + c), _mm256_loadu_ps(x + c), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(d + c + 8), _mm256_loadu_ps(x + c + 8), a1);
            }
            for (; c < full; c += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(d + c), _mm256_loadu_ps(x + c), a0);
            if (rem) a1 = _mm256_fmadd_ps(_mm256_maskload_ps(d + c, mk), _mm256_maskload_ps(x + c, mk), a1);
            G[k] = hsum1(_mm256_add_ps(a0, a1));
        }
    }
}

static void adam_avx2(int n, float *w, const float *g, float *m, float *v, const float *mask, int mask_mode,
                      float beta1, float beta2, float ob1, float ob2, float step, float rbc2, float eps, float decay,
                      float cwd) {
    int i = 0;
    const __m256 vb1 = _mm256_set1_ps(beta1), vb2 = _mm256_set1_ps(beta2), vo1 = _mm256_set1_ps(ob1);
    const __m256 vo2 = _mm256_set1_ps(ob2), vstep = _mm256_set1_ps(step), vr = _mm256_set1_ps(rbc2);
    const __m256 veps = _mm256_set1_ps(eps), vdecay = _mm256_set1_ps(decay), vwd = _mm256_set1_ps(cwd);
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i), gi = _mm256_loadu_ps(g + i);
        __m256 mi = _mm256_loadu_ps(m + i), vi = _mm256_loadu_ps(v + i);
        __m256 k = _mm256_setzero_ps();
        if (mask_mode == 1) {
            k = _mm256_loadu_ps(mask + i);
            gi = _mm256_mul_ps(gi, k); mi = _mm256_mul_ps(mi, k); vi = _mm256_mul_ps(vi, k);
        } else if (mask_mode == 2) {
            k = _mm256_loadu_ps(mask + i);
        }
        wi = _mm256_mul_ps(wi, vdecay);
        gi = _mm256_fmadd_ps(vwd, wi, gi);
        mi = _mm256_fmadd_ps(vb1, mi, _mm256_mul_ps(vo1, gi));
        vi = _mm256_fmadd_ps(vb2, vi, _mm256_mul_ps(vo2, _mm256_mul_ps(gi, gi)));
        __m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), vr), veps);
        wi = _mm256_sub_ps(wi, _mm256_mul_ps(vstep, _mm256_div_ps(mi, den)));
        if (mask_mode) wi = _mm256_mul_ps(wi, k);
        _mm256_storeu_ps(w + i, wi); _mm256_storeu_ps(m + i, mi); _mm256_storeu_ps(v + i, vi);
    }
    adam_plain_from(i, n, w, g, m, v, mask, mask_mode, beta1, beta2, ob1, ob2, step, rbc2, eps, decay, cwd);
}

static void leaky_forward_avx2(float s, const float *z, float *a, long n) {
    long i = 0;
    const __m256 vs = _mm256_set1_ps(s), zero = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(z + i);
        const __m256 pos = _mm256_cmp_ps(x, zero, _CMP_GT_OQ);
        _mm256_storeu_ps(a + i, _mm256_blendv_ps(_mm256_mul_ps(x, vs), x, pos));
    }
    leaky_forward_from(i, s, z, a, n);
}

static void tanh_backward_avx2(const float *dA, const float *a, float *dZ, long n) {
    long i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 y = _mm256_loadu_ps(a + i);
        _mm256_storeu_ps(dZ + i, _mm256_mul_ps(_mm256_loadu_ps(dA + i), _mm256_sub_ps(one, _mm256_mul_ps(y, y))));
    }
    tanh_backward_from(i, dA, a, dZ, n);
}

static void leaky_backward_avx2(float s, const float *dA, const float *z, float *dZ, long n) {
    long i = 0;
    const __m256 vs = _mm256_set1_ps(s), zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 pos = _mm256_cmp_ps(_mm256_loadu_ps(z + i), zero, _CMP_GT_OQ);
        _mm256_storeu_ps(dZ + i, _mm256_mul_ps(_mm256_loadu_ps(dA + i), _mm256_blendv_ps(vs, one, pos)));
    }
    leaky_backward_from(i, s, dA, z, dZ, n);
}

// The portable loops again, compiled for AVX2 (the same operations in the same order, so the same results).
static long blend_count_avx2(long n, float *t, const float *o, float tau, long *onz) { return blend_count_body(n, t, o, tau, onz); }
static long drop_keys_avx2(long n, const float *t, uint64_t *keys) { return drop_keys_body(n, t, keys); }
static void prune_mask_avx2(long n, float *t, int prune, uint64_t threshold, float *mask) { prune_mask_body(n, t, prune, threshold, mask); }

SK_AVX2_END
#endif

#if SK_HAVE_AVX512
SK_AVX512_BEGIN
// Lane mask for the first n (0 ≤ n ≤ 16) of 16 floats.
static inline __mmask16 lanes16(int n) { return (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1u); }

// Post-ops fused into the store (see ckernels.h), per lane exactly as post8 / post1: g points at the same element
// of G as the output; `mk` limits the read of G to the lanes that exist.
static inline __m512 post16(int op, __m512 v, const float *g, __m512 slope, __mmask16 mk) {
    const __m512 z = _mm512_setzero_ps();
    switch (op) {
    case 1: return _mm512_max_ps(v, z);
    case 2: return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, z, _CMP_GT_OQ), _mm512_mul_ps(v, slope), v);
    case 3: return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(mk, g), z, _CMP_GT_OQ), v);
    case 4: return _mm512_mul_ps(v, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(mk, g), z, _CMP_GT_OQ),
                                                         slope, _mm512_set1_ps(1.0f)));
    case 5: { const __m512 a = _mm512_maskz_loadu_ps(mk, g); return _mm512_mul_ps(v, _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_mul_ps(a, a))); }
    default: return v;
    }
}

// The AVX2 body's blocking (64 columns in one chain per column, then 32 in two chains, then the rest in four
// chains) with 16-lane registers: every output column sees the same operations in the same order as in
// spmm_avx2, so the two bodies give identical results; the wider registers halve the instructions per connection.
static void spmm_avx512(int rows, const int32_t *ptr, const int32_t *idx, const float *values, const int32_t *perm,
                        const float *X, int ldx, int B, const float *bias, float *Y, int ldy,
                        int post, float slope, const float *G) {
    const __m512 vslope = _mm512_set1_ps(slope);
    const __mmask16 all = 0xFFFF;
    for (int r = 0; r < rows; r++) {
        const float *g = G ? G + (long)r * ldy : Y + (long)r * ldy;  // only read when post >= 3
#define ST(off, expr) _mm512_storeu_ps(y + c + (off), post16(post, (expr), g + c + (off), vslope, all))
        const int kb = ptr[r], ke = ptr[r + 1];
        const __m512 b0 = _mm512_set1_ps(bias ? bias[r] : 0.0f);
        float *y = Y + (long)r * ldy;
        int c = 0;
        // 128 columns in eight chains (two of spmm_avx2's 64-column blocks at once: the same order per column).
        for (; c + 128 <= B; c += 128) {
            __m512 a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0;
            for (int k = kb; k < ke; k++) {
                const __m512 w = _mm512_set1_ps(WK(k));
                const float *x = X + (long)idx[k] * ldx + c;
                a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x), a0);
                a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 16), a1);
                a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 32), a2);
                a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 48), a3);
                a4 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 64), a4);
                a5 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 80), a5);
                a6 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 96), a6);
                a7 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 112), a7);
            }
            ST(0, a0); ST(16, a1); ST(32, a2); ST(48, a3); ST(64, a4); ST(80, a5); ST(96, a6); ST(112, a7);
        }
        for (; c + 64 <= B; c += 64) {
            __m512 a0 = b0, a1 = b0, a2 = b0, a3 = b0;
            for (int k = kb; k < ke; k++) {
                const __m512 w = _mm512_set1_ps(WK(k));
                const float *x = X + (long)idx[k] * ldx + c;
                a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x), a0);
                a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 16), a1);
                a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 32), a2);
                a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 48), a3);
            }
            ST(0, a0); ST(16, a1); ST(32, a2); ST(48, a3);
        }
        for (; c + 32 <= B; c += 32) {
            __m512 a0 = b0, a1 = b0, e0 = _mm512_setzero_ps(), e1 = e0;
            int k = kb;
            for (; k + 2 <= ke; k += 2) {
                const __m512 w = _mm512_set1_ps(WK(k)), v = _mm512_set1_ps(WK(k + 1));
                const float *x = X + (long)idx[k] * ldx + c, *u = X + (long)idx[k + 1] * ldx + c;
                a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x), a0);
                a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 16), a1);
                e0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(u), e0);
                e1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(u + 16), e1);
            }
            if (k < ke) {
                const __m512 w = _mm512_set1_ps(WK(k));
                const float *x = X + (long)idx[k] * ldx + c;
                a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x), a0);
                a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + 16), a1);
            }
            ST(0, _mm512_add_ps(a0, e0)); ST(16, _mm512_add_ps(a1, e1));
        }
#undef ST
        // Fewer than 32 columns left: 16 at a time (masked at the end), four chains as spmm_avx2's 8-column loop.
        for (; c < B; c += 16) {
            const __mmask16 mk = lanes16(B - c);
            __m512 a0 = b0, a1 = _mm512_setzero_ps(), a2 = a1, a3 = a1;
            int k = kb;
            for (; k + 4 <= ke; k += 4) {
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(WK(k)), _mm512_maskz_loadu_ps(mk, X + (long)idx[k] * ldx + c), a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(WK(k + 1)), _mm512_maskz_loadu_ps(mk, X + (long)idx[k + 1] * ldx + c), a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(WK(k + 2)), _mm512_maskz_loadu_ps(mk, X + (long)idx[k + 2] * ldx + c), a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(WK(k + 3)), _mm512_maskz_loadu_ps(mk, X + (long)idx[k + 3] * ldx + c), a3);
            }
            for (; k < ke; k++)
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(WK(k)), _mm512_maskz_loadu_ps(mk, X + (long)idx[k] * ldx + c), a0);
            _mm512_mask_storeu_ps(y + c, mk, post16(post, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                                    g + c, vslope, mk));
        }
    }
}

// Σ of 16 lanes: the two halves added lane-wise, then the AVX2 body's 8-lane sum.
static inline __m256 fold16(__m512 a) { return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1)); }

static void rowsum_avx512(int rows, const float *X, int ldx, int B, float *out) {
    for (int r = 0; r < rows; r++) {
        const float *x = X + (long)r * ldx;
        int c = 0;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;
        for (; c + 32 <= B; c += 32) {
            a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + c));
            a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + c + 16));
        }
        if (c < B) { a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(lanes16(B - c), x + c)); c = c + 16 < B ? c + 16 : B; }
        rowsum_plain_from(c, x, B, hsum1(fold16(_mm512_add_ps(a0, a1))), out + r);
    }
}

static void sddmm_avx512(int rows, const int32_t *ptr, const int32_t *idx, const float *dY, int ldd,
                         const float *X, int ldx, int B, float *G, float *rowsum) {
    const int full = B & ~15, rem = B - full;
    const __mmask16 mk = lanes16(rem);
    for (int r = 0; r < rows; r++) {
        const float *d = dY + (long)r * ldd;
        if (rowsum) rowsum_avx512(1, d, ldd, B, rowsum + r);  // brings dY[r, :] into L1 for the products below
        int k = ptr[r];
        const int ke = ptr[r + 1];
        // Eight connections at a time: dY[r, chunk] loaded once, eight FMA chains, one 8-way horizontal sum.
        for (; k + 8 <= ke; k += 8) {
            const float *x0 = X + (long)idx[k] * ldx, *x1 = X + (long)idx[k + 1] * ldx;
            const float *x2 = X + (long)idx[k + 2] * ldx, *x3 = X + (long)idx[k + 3] * ldx;
            const float *x4 = X + (long)idx[k + 4] * ldx, *x5 = X + (long)idx[k + 5] * ldx;
            const float *x6 = X + (long)idx[k + 6] * ldx, *x7 = X + (long)idx[k + 7] * ldx;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            int c = 0;
            for (; c < full; c += 16) {
                const __m512 g = _mm512_loadu_ps(d + c);
                a0 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x0 + c), a0);
                a1 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x1 + c), a1);
                a2 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x2 + c), a2);
                a3 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x3 + c), a3);
                a4 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x4 + c), a4);
                a5 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x5 + c), a5);
                a6 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x6 + c), a6);
                a7 = _mm512_fmadd_ps(g, _mm512_loadu_ps(x7 + c), a7);
            }
            if (rem) {
                const __m512 g = _mm512_maskz_loadu_ps(mk, d + c);
                a0 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x0 + c), a0);
                a1 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x1 + c), a1);
                a2 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x2 + c), a2);
                a3 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x3 + c), a3);
                a4 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x4 + c), a4);
                a5 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x5 + c), a5);
                a6 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x6 + c), a6);
                a7 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(mk, x7 + c), a7);
            }
            _mm256_storeu_ps(G + k, hsum8(fold16(a0), fold16(a1), fold16(a2), fold16(a3),
                                          fold16(a4), fold16(a5), fold16(a6), fold16(a7)));
        }
        // Remaining connections of the row one by one, two chains each.
        for (; k < ke; k++) {
            const float *x = X + (long)idx[k] * ldx;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0;
            int c = 0;
            for (; c + 32 <= full; c += 32) {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(d + c), _mm512_loadu_ps(x + c), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(d + c + 16), _mm512_loadu_ps(x + c + 16), a1);
            }
            for (; c < full; c += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(d + c), _mm512_loadu_ps(x + c), a0);
            if (rem) a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, d + c), _mm512_maskz_loadu_ps(mk, x + c), a1);
            G[k] = hsum1(fold16(_mm512_add_ps(a0, a1)));
        }
    }
}

// Element-wise: the AVX2 body's operations on 16 lanes, the tail masked (same results element for element).
static void adam_avx512(int n, float *w, const float *g, float *m, float *v, const float *mask, int mask_mode,
                        float beta1, float beta2, float ob1, float ob2, float step, float rbc2, float eps, float decay,
                        float cwd) {
    const __m512 vb1 = _mm512_set1_ps(beta1), vb2 = _mm512_set1_ps(beta2), vo1 = _mm512_set1_ps(ob1);
    const __m512 vo2 = _mm512_set1_ps(ob2), vstep = _mm512_set1_ps(step), vr = _mm512_set1_ps(rbc2);
    const __m512 veps = _mm512_set1_ps(eps), vdecay = _mm512_set1_ps(decay), vwd = _mm512_set1_ps(cwd);
    for (int i = 0; i < n; i += 16) {
        const __mmask16 mk = lanes16(n - i);
        __m512 wi = _mm512_maskz_loadu_ps(mk, w + i), gi = _mm512_maskz_loadu_ps(mk, g + i);
        __m512 mi = _mm512_maskz_loadu_ps(mk, m + i), vi = _mm512_maskz_loadu_ps(mk, v + i);
        __m512 k = _mm512_setzero_ps();
        if (mask_mode == 1) {
            k = _mm512_maskz_loadu_ps(mk, mask + i);
            gi = _mm512_mul_ps(gi, k); mi = _mm512_mul_ps(mi, k); vi = _mm512_mul_ps(vi, k);
        } else if (mask_mode == 2) {
            k = _mm512_maskz_loadu_ps(mk, mask + i);
        }
        wi = _mm512_mul_ps(wi, vdecay);
        gi = _mm512_fmadd_ps(vwd, wi, gi);
        mi = _mm512_fmadd_ps(vb1, mi, _mm512_mul_ps(vo1, gi));
        vi = _mm512_fmadd_ps(vb2, vi, _mm512_mul_ps(vo2, _mm512_mul_ps(gi, gi)));
        const __m512 den = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), vr), veps);
        wi = _mm512_sub_ps(wi, _mm512_mul_ps(vstep, _mm512_div_ps(mi, den)));
        if (mask_mode) wi = _mm512_mul_ps(wi, k);
        _mm512_mask_storeu_ps(w + i, mk, wi); _mm512_mask_storeu_ps(m + i, mk, mi); _mm512_mask_storeu_ps(v + i, mk, vi);
    }
}

static void leaky_forward_avx512(float s, const float *z, float *a, long n) {
    const __m512 vs = _mm512_set1_ps(s), zero = _mm512_setzero_ps();
    for (long i = 0; i < n; i += 16) {
        const __mmask16 mk = lanes16((int)(n - i < 16 ? n - i : 16));
        const __m512 x = _mm512_maskz_loadu_ps(mk, z + i);
        _mm512_mask_storeu_ps(a + i, mk, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), _mm512_mul_ps(x, vs), x));
    }
}

static void tanh_backward_avx512(const float *dA, const float *a, float *dZ, long n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        const __mmask16 mk = lanes16((int)(n - i < 16 ? n - i : 16));
        const __m512 y = _mm512_maskz_loadu_ps(mk, a + i);
        _mm512_mask_storeu_ps(dZ + i, mk, _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, dA + i), _mm512_sub_ps(one, _mm512_mul_ps(y, y))));
    }
}

static void leaky_backward_avx512(float s, const float *dA, const float *z, float *dZ, long n) {
    const __m512 vs = _mm512_set1_ps(s), zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        const __mmask16 mk = lanes16((int)(n - i < 16 ? n - i : 16));
        const __mmask16 pos = _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(mk, z + i), zero, _CMP_GT_OQ);
        _mm512_mask_storeu_ps(dZ + i, mk, _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, dA + i), _mm512_mask_blend_ps(pos, vs, one)));
    }
}

// The portable loops again, compiled for AVX-512 (the same operations in the same order, so the same results).
static long blend_count_avx512(long n, float *t, const float *o, float tau, long *onz) { return blend_count_body(n, t, o, tau, onz); }
static long drop_keys_avx512(long n, const float *t, uint64_t *keys) { return drop_keys_body(n, t, keys); }
static void prune_mask_avx512(long n, float *t, int prune, uint64_t threshold, float *mask) { prune_mask_body(n, t, prune, threshold, mask); }

SK_AVX512_END
#endif

// MARK: - the public kernels: pick the body

void sk_spmm(int rows, const int32_t *ptr, const int32_t *idx, const float *values, const int32_t *perm,
             const float *X, int ldx, int B, const float *bias, float *Y, int ldy,
             int post, float slope, const float *G) {
    if (B == 1) { spmv(rows, ptr, idx, values, perm, X, bias, Y, ldy, post, slope, G); return; }
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { spmm_avx512(rows, ptr, idx, values, perm, X, ldx, B, bias, Y, ldy, post, slope, G); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { spmm_avx2(rows, ptr, idx, values, perm, X, ldx, B, bias, Y, ldy, post, slope, G); return; }
#endif
    spmm_plain(rows, ptr, idx, values, perm, X, ldx, B, bias, Y, ldy, post, slope, G);
}

void sk_sddmm(int rows, const int32_t *ptr, const int32_t *idx, const float *dY, int ldd,
              const float *X, int ldx, int B, float *G, float *rowsum) {
#if SK_HAVE_AVX512
    if (isa == SK_ISA_AVX512) { sddmm_avx512(rows, ptr, idx, dY, ldd, X, ldx, B, G, rowsum); return; }
#endif
#if SK_HAVE_AVX2
    if (isa == SK_ISA_AVX2) { sddmm_avx2(rows, ptr, idx, dY, ldd, X, ldx, B, G, rowsum); return; }
#endif
    sddmm_plain(rows, ptr, idx, dY, ldd, X, ldx, B, G, rowsum);
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
