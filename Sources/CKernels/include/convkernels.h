#pragma once
// Truly sparse 2-D convolution kernels (cross-correlation, as PyTorch's Conv2d and TF's conv2d compute it), in the
// same ISA-selected style as ckernels.h: AVX-512 or AVX2 + FMA bodies where the CPU has them (`sk_isa`), portable
// C otherwise; one thread, Float32. Plain Swift twins: NeuralNet/ReferenceConv.swift.
//
// Layout ("feature-major batch", the FC layers' `x[f * batch + b]` with f = (c·H + h)·W + w):
//   activations  X[c][h][w][b]   — the batch is the contiguous vector dimension, so one kernel tap applied at one
//                                  output position is an axpy over a batch vector, and a flattened conv output is
//                                  directly the input of a fully connected layer (PyTorch's NCHW flatten order).
//   kernel       CSR over output channels: row co holds the live taps ptr[co]..<ptr[co+1], each with its column
//                (ci·KH + kh)·KW + kw (PyTorch's OIHW weight flattened: position = co·fanIn + column) and value.
// The kernels below take, instead of the column, each tap's spatial offset into the (padded) input,
//   offset = (ci·H + kh)·W + kw   (sk_conv_tap_offsets computes it once per topology and input size),
// and work on an input that is already zero-padded (valid correlation): the layer pads with sk_conv_pad and
// crops input gradients with sk_conv_crop, so zero padding costs one copy and no branch in the hot loops.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Sizes of one valid (already padded) convolution: input C_in × H × W, output C_out × OH × OW, kernel KH × KW,
/// one stride for both axes. OH = (H − KH) / stride + 1 and OW likewise (rows or columns past the last window are
/// unused).
typedef struct {
    int in_channels, in_height, in_width;
    int out_channels, out_height, out_width;
    int kernel_height, kernel_width, stride;
} sk_conv_shape;

/// offset[k] = (ci·in_height + kh)·in_width + kw for each tap k whose column idx[k] = (ci·KH + kh)·KW + kw
/// (idx 16-bit where wide is 0, 32-bit where it is 1, as in sk_spmm).
void sk_conv_tap_offsets(const sk_conv_shape *s, int nnz, const void *idx, int wide, int32_t *offset);

/// Forward: for every output channel co, output position (oh, ow) and sample b,
///   Y[co][oh][ow][b] = post(bias[co] + Σ_{k in ptr[co]..<ptr[co+1]} values[k] · X[offset[k] + (oh·s·W + ow·s)][b])
/// with post = max(·, 0) if relu != 0. bias may be NULL (0). X: C_in·H·W·B floats, Y: C_out·OH·OW·B floats.
void sk_conv_forward(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset, const float *values,
                     const float *X, const float *bias, float *Y, int relu);

/// Input gradient: dX (C_in·H·W·B floats, overwritten) = the transposed convolution of dY,
///   dX[offset[k] + (oh·s·W + ow·s)][b] += values[k] · dY[co][oh][ow][b]  over every co, live tap k, (oh, ow), b.
/// Input positions no window covers get 0.
void sk_conv_input_gradient(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                            const float *values, const float *dY, float *dX);

/// Weight gradient at live taps only (a sampled product, as sk_sddmm):
///   G[k] = Σ_{oh, ow, b} dY[co][oh][ow][b] · X[offset[k] + (oh·s·W + ow·s)][b]   for k in row co,
/// and, if bias_grad is not NULL, bias_grad[co] = Σ_{oh, ow, b} dY[co][oh][ow][b].
void sk_conv_weight_gradient(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                             const float *dY, const float *X, float *G, float *bias_grad);

/// Zero padding: XP (C·(H+2·pad)·(W+2·pad)·B floats) = X (C·H·W·B) with a ring of `pad` zeros around each channel.
void sk_conv_pad(int C, int H, int W, int pad, int B, const float *X, float *XP);
/// The inverse view: X (C·H·W·B) = the interior of XP (C·(H+2·pad)·(W+2·pad)·B); the ring is dropped.
void sk_conv_crop(int C, int H, int W, int pad, int B, const float *XP, float *X);
/// The same with `pad` zeros before (top rows, left columns) and `trailing` after (bottom, right): TF's "SAME"
/// padding puts the odd zero at the end. XP is C·(H+pad+trailing)·(W+pad+trailing)·B floats.
void sk_conv_pad_asymmetric(int C, int H, int W, int pad, int trailing, int B, const float *X, float *XP);
void sk_conv_crop_asymmetric(int C, int H, int W, int pad, int trailing, int B, const float *XP, float *X);

/// The dense baseline's column matrix (im2col) of a padded input: COL is (C_in·KH·KW) × (OH·OW·B), row
/// (ci·KH + kh)·KW + kw, column (oh·OW + ow)·B + b, holding X[ci][oh·s + kh][ow·s + kw][b]. Then the forward
/// convolution is one sgemm W·COL, in the layout above.
void sk_conv_im2col(const sk_conv_shape *s, int B, const float *X, float *COL);
/// The adjoint (col2im): dX (padded input, overwritten) = Σ of COL's entries over every window position they came from.
void sk_conv_col2im(const sk_conv_shape *s, int B, const float *COL, float *dX);

#ifdef __cplusplus
}
#endif
