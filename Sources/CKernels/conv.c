// Truly sparse 2-D convolution; see include/convkernels.h for the layout and the contracts.
//
// Bodies as in kernels.c: AVX-512 (F, BW, DQ, VL), AVX2 + FMA and portable C, all compiled into every x86-64 build
// and chosen at run time by `sk_isa()` (target attributes on the regions, no compiler flags). The two vector bodies
// are one source, conv_body.h, included once per instruction set over the vocabulary of vector_isa.h (shared with
// kernels.c). Batches below 8 samples run the portable body on every machine: a vector of samples would be mostly
// empty lanes there (acting at batch 1).
//
// Numerics: no fast-math and no contraction. The bodies sum in different orders (the vector bodies add the bias
// first and then the taps in CSR order per sample, as the portable body does, but the weight gradient sums over
// positions and samples in VLEN lanes), so they may differ in the last bits; tests hold each against the plain
// Swift twins (NeuralNet/ReferenceConv.swift).
#include "convkernels.h"
#include "ckernels.h"
#pragma clang fp contract(off)
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define SC_HAVE_VECTOR 1
#define SC_AVX2_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define SC_AVX2_END _Pragma("clang attribute pop")
#define SC_AVX512_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl\"))), apply_to = function)")
#define SC_AVX512_END _Pragma("clang attribute pop")
#else
#define SC_HAVE_VECTOR 0
#endif

#define SK_INLINE static inline __attribute__((always_inline))

// The smallest batch the vector bodies take.
enum { SC_VECTOR_MIN_BATCH = 8 };

void sk_conv_tap_offsets(const sk_conv_shape *s, int nnz, const void *idx, int wide, int32_t *offset) {
    const int kk = s->kernel_height * s->kernel_width;
    for (int k = 0; k < nnz; k++) {
        const int col = wide ? ((const int32_t *)idx)[k] : ((const uint16_t *)idx)[k], ci = col / kk, r = col - ci * kk, kh = r / s->kernel_width, kw = r - kh * s->kernel_width;
        offset[k] = (ci * s->in_height + kh) * s->in_width + kw;
    }
}

void sk_conv_pad_asymmetric(int C, int H, int W, int pad, int trailing, int B, const float *X, float *XP) {
    const long Hp = H + pad + trailing, Wp = W + pad + trailing, row = (long)W * B;
    // Only the ring is zeroed (the interior is overwritten): top rows, then per interior row its left and right
    // pads, then bottom rows — the padded input is rebuilt for every forward pass of a batch.
    for (long c = 0; c < C; c++) {
        float *xc = XP + c * Hp * Wp * B;
        memset(xc, 0, sizeof(float) * (size_t)(pad * Wp * B));
        for (long h = 0; h < H; h++) {
            float *r = xc + (h + pad) * Wp * B;
            memset(r, 0, sizeof(float) * (size_t)(pad * B));
            memcpy(r + pad * B, X + (c * H + h) * row, sizeof(float) * (size_t)row);
            memset(r + (pad + W) * B, 0, sizeof(float) * (size_t)(trailing * B));
        }
        memset(xc + (H + pad) * Wp * B, 0, sizeof(float) * (size_t)(trailing * Wp * B));
    }
}

void sk_conv_crop_asymmetric(int C, int H, int W, int pad, int trailing, int B, const float *XP, float *X) {
    const long Hp = H + pad + trailing, Wp = W + pad + trailing, row = (long)W * B;
    for (long c = 0; c < C; c++)
        for (long h = 0; h < H; h++)
            memcpy(X + (c * H + h) * row, XP + ((c * Hp + h + pad) * Wp + pad) * B, sizeof(float) * (size_t)row);
}

void sk_conv_pad(int C, int H, int W, int pad, int B, const float *X, float *XP) {
    sk_conv_pad_asymmetric(C, H, W, pad, pad, B, X, XP);
}

void sk_conv_crop(int C, int H, int W, int pad, int B, const float *XP, float *X) {
    sk_conv_crop_asymmetric(C, H, W, pad, pad, B, XP, X);
}

void sk_conv_im2col(const sk_conv_shape *s, int B, const float *X, float *COL) {
    const long OW = s->out_width, OH = s->out_height, row = OH * OW * B, st = s->stride;
    float *col = COL;
    for (long ci = 0; ci < s->in_channels; ci++)
        for (long kh = 0; kh < s->kernel_height; kh++)
            for (long kw = 0; kw < s->kernel_width; kw++, col += row)
                for (long oh = 0; oh < OH; oh++) {
                    const float *x = X + ((ci * s->in_height + oh * st + kh) * s->in_width + kw) * B;
                    float *c = col + oh * OW * B;
                    if (st == 1) { memcpy(c, x, sizeof(float) * (size_t)(OW * B)); continue; }
                    if (B == 1) { for (long ow = 0; ow < OW; ow++) c[ow] = x[ow * st]; continue; }  // acting: no call per value
                    for (long ow = 0; ow < OW; ow++) memcpy(c + ow * B, x + ow * st * B, sizeof(float) * (size_t)B);
                }
}

void sk_conv_col2im(const sk_conv_shape *s, int B, const float *COL, float *dX) {
    const long OW = s->out_width, OH = s->out_height, row = OH * OW * B, st = s->stride;
    memset(dX, 0, sizeof(float) * (size_t)s->in_channels * s->in_height * s->in_width * (size_t)B);
    const float *col = COL;
    for (long ci = 0; ci < s->in_channels; ci++)
        for (long kh = 0; kh < s->kernel_height; kh++)
            for (long kw = 0; kw < s->kernel_width; kw++, col += row)
                for (long oh = 0; oh < OH; oh++) {
                    float *x = dX + ((ci * s->in_height + oh * st + kh) * s->in_width + kw) * B;
                    const float *c = col + oh * OW * B;
                    for (long ow = 0; ow < OW; ow++)
                        for (long b = 0; b < B; b++) x[ow * st * B + b] += c[ow * B + b];
                }
}

// MARK: - portable bodies

#define PP 8  /* output positions per block */

static inline void plain_bases(const sk_conv_shape *s, int p0, int np, long B, long *base) {
    for (int p = 0; p < np; p++) {
        const int q = p0 + p, oh = q / s->out_width, ow = q - oh * s->out_width;
        base[p] = ((long)oh * s->stride * s->in_width + (long)ow * s->stride) * B;
    }
}

static void conv_forward_plain(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                               const float *values, const float *X, const float *bias, float *Y, int relu) {
    const int npos = s->out_height * s->out_width;
    long base[PP];
    for (int co = 0; co < s->out_channels; co++) {
        const float b0 = bias ? bias[co] : 0.0f;
        for (int p0 = 0; p0 < npos; p0 += PP) {
            const int np = npos - p0 < PP ? npos - p0 : PP;
            plain_bases(s, p0, np, B, base);
            float *y = Y + ((long)co * npos + p0) * B;
            for (int b = 0; b < B; b++) {
                float a[PP];
                for (int p = 0; p < np; p++) a[p] = b0;
                for (int k = ptr[co]; k < ptr[co + 1]; k++) {
                    const float w = values[k], *x = X + (long)offset[k] * B + b;
                    for (int p = 0; p < np; p++) a[p] += w * x[base[p]];
                }
                for (int p = 0; p < np; p++) y[(long)p * B + b] = relu && !(a[p] > 0) ? 0.0f : a[p];
            }
        }
    }
}

static void conv_input_gradient_plain(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                                      const float *values, const float *dY, float *dX) {
    const int npos = s->out_height * s->out_width;
    memset(dX, 0, sizeof(float) * (size_t)s->in_channels * s->in_height * s->in_width * (size_t)B);
    long base[PP];
    for (int p0 = 0; p0 < npos; p0 += PP) {
        const int np = npos - p0 < PP ? npos - p0 : PP;
        plain_bases(s, p0, np, B, base);
        for (int co = 0; co < s->out_channels; co++) {
            const float *dy = dY + ((long)co * npos + p0) * B;
            for (int b = 0; b < B; b++) {
                float d[PP];
                for (int p = 0; p < np; p++) d[p] = dy[(long)p * B + b];
                for (int k = ptr[co]; k < ptr[co + 1]; k++) {
                    const float w = values[k];
                    float *x = dX + (long)offset[k] * B + b;
                    for (int p = 0; p < np; p++) x[base[p]] += w * d[p];
                }
            }
        }
    }
}

static void conv_weight_gradient_plain(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                                       const float *dY, const float *X, float *G, float *bias_grad) {
    const int npos = s->out_height * s->out_width;
    const long step = (long)s->stride * B, row = (long)s->stride * s->in_width * B;
    for (int co = 0; co < s->out_channels; co++) {
        const float *dyc = dY + (long)co * npos * B;
        if (bias_grad) {
            float sum = 0;
            for (long i = 0; i < (long)npos * B; i++) sum += dyc[i];
            bias_grad[co] = sum;
        }
        for (int k = ptr[co]; k < ptr[co + 1]; k++) {
            const float *xk = X + (long)offset[k] * B, *dy = dyc;
            float sum = 0;
            for (int oh = 0; oh < s->out_height; oh++) {
                const float *x = xk + oh * row;
                for (int ow = 0; ow < s->out_width; ow++, x += step, dy += B)
                    for (int b = 0; b < B; b++) sum += dy[b] * x[b];
            }
            G[k] = sum;
        }
    }
}

#undef PP

// MARK: - vector bodies

#if SC_HAVE_VECTOR
SC_AVX2_BEGIN
#define SK_VECTOR_AVX2
#include "vector_isa.h"
#define CB(name) name##_avx2
#define VHSUM(v) hsum1(v)
#include "conv_body.h"
SC_AVX2_END

SC_AVX512_BEGIN
#define SK_VECTOR_AVX512
#include "vector_isa.h"
#define CB(name) name##_avx512
#define VHSUM(v) _mm512_reduce_add_ps(v)
#include "conv_body.h"
SC_AVX512_END
#include "vector_isa.h"
#endif

// MARK: - the public kernels: pick the body

void sk_conv_forward(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset, const float *values,
                     const float *X, const float *bias, float *Y, int relu) {
#if SC_HAVE_VECTOR
    if (B >= SC_VECTOR_MIN_BATCH) {
        if (sk_isa() == SK_ISA_AVX512) { conv_forward_avx512(s, B, ptr, offset, values, X, bias, Y, relu); return; }
        if (sk_isa() == SK_ISA_AVX2) { conv_forward_avx2(s, B, ptr, offset, values, X, bias, Y, relu); return; }
    }
#endif
    conv_forward_plain(s, B, ptr, offset, values, X, bias, Y, relu);
}

void sk_conv_input_gradient(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                            const float *values, const float *dY, float *dX) {
#if SC_HAVE_VECTOR
    if (B >= SC_VECTOR_MIN_BATCH) {
        if (sk_isa() == SK_ISA_AVX512) { conv_input_gradient_avx512(s, B, ptr, offset, values, dY, dX); return; }
        if (sk_isa() == SK_ISA_AVX2) { conv_input_gradient_avx2(s, B, ptr, offset, values, dY, dX); return; }
    }
#endif
    conv_input_gradient_plain(s, B, ptr, offset, values, dY, dX);
}

void sk_conv_weight_gradient(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                             const float *dY, const float *X, float *G, float *bias_grad) {
#if SC_HAVE_VECTOR
    if (B >= SC_VECTOR_MIN_BATCH) {
        if (sk_isa() == SK_ISA_AVX512) { conv_weight_gradient_avx512(s, B, ptr, offset, dY, X, G, bias_grad); return; }
        if (sk_isa() == SK_ISA_AVX2) { conv_weight_gradient_avx2(s, B, ptr, offset, dY, X, G, bias_grad); return; }
    }
#endif
    conv_weight_gradient_plain(s, B, ptr, offset, dY, X, G, bias_grad);
}
