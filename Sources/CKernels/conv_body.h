// The vector bodies of the sparse convolution (conv.c), written once over the vector vocabulary of vector_isa.h and
// included once per instruction set inside that set's target-attribute region. Not a public header.
//
// Besides the vocabulary, the including file defines
//   CB(name)            the body's function name (name ## _avx2, name ## _avx512)
//   VHSUM(v)            Σ of the lanes
// and this file undefines them at its end.
//
// Blocking (XNNPACK f32-spmm style, with the batch as the contiguous dimension): an output channel's taps are
// walked once per block of CP output positions × 2 vectors of samples; the CP·2 accumulators stay in registers,
// each tap costs one broadcast and CP·2 loads + FMAs. The weight gradient walks all output positions once per
// block of CT taps, loading each dY vector once for CT FMAs. A short last block repeats its first position or tap
// (a dummy whose result is dropped), so the loops have no per-element branches.

#define CP 6  /* output positions per block (forward, input gradient) */
#define CT 8  /* taps per block (weight gradient) */
#define CBAND 24  /* output positions per band (a multiple of CP) */

// Spatial offsets into the padded input of output positions p0 ..< p0 + CP (positions past `npos` repeat p0).
static inline void CB(block_bases)(const sk_conv_shape *s, int p0, int npos, long B, long *base) {
    const int ow0 = s->out_width;
    for (int p = 0; p < CP; p++) {
        const int q = p0 + p < npos ? p0 + p : p0;
        const int oh = q / ow0, ow = q - oh * ow0;
        base[p] = ((long)oh * s->stride * s->in_width + (long)ow * s->stride) * B;
    }
}

// One block of CP positions × 2·VLEN samples starting at sample c: m0/m1 mask the two vectors (all lanes when
// `masked` is 0, a compile-time constant after inlining).
SK_INLINE void CB(forward_block)(int kb, int ke, const int32_t *offset, const float *values, const float *X, long B,
                                 const long *base, int c, int masked, VM m0, VM m1, float bias, int relu,
                                 float *y, int np) {
    V a[CP][2];
    const V vb = VSET1(bias);
    for (int p = 0; p < CP; p++) { a[p][0] = vb; a[p][1] = vb; }
    for (int k = kb; k < ke; k++) {
        const V w = VSET1(values[k]);
        const float *xk = X + (long)offset[k] * B + c;
        for (int p = 0; p < CP; p++) {
            const float *x = xk + base[p];
            a[p][0] = VFMA(w, masked ? VMLOAD(m0, x) : VLOAD(x), a[p][0]);
            a[p][1] = VFMA(w, masked ? VMLOAD(m1, x + VLEN) : VLOAD(x + VLEN), a[p][1]);
        }
    }
    for (int p = 0; p < CP; p++) {
        if (p >= np) break;
        V r0 = a[p][0], r1 = a[p][1];
        if (relu) { r0 = VMAX0(r0); r1 = VMAX0(r1); }
        float *o = y + (long)p * B + c;
        if (masked) { VMSTORE(o, m0, r0); VMSTORE(o + VLEN, m1, r1); }
        else { VSTORE(o, r0); VSTORE(o + VLEN, r1); }
    }
}

static void CB(conv_forward)(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                             const float *values, const float *X, const float *bias, float *Y, int relu) {
    const int npos = s->out_height * s->out_width, full = B - B % (2 * VLEN), rem = B - full;
    const VM all = VMASK(VLEN);
    const VM t0 = VMASK(rem < VLEN ? rem : VLEN), t1 = VMASK(rem > VLEN ? rem - VLEN : 0);
    long base[CBAND / CP][CP];
    // Bands of CBAND output positions outer, output channels inner: the band's receptive field (every input
    // channel) stays in L2 while each output channel's taps run over it.
    for (int q0 = 0; q0 < npos; q0 += CBAND) {
        const int qe = npos - q0 < CBAND ? npos : q0 + CBAND;
        for (int p0 = q0, j = 0; p0 < qe; p0 += CP, j++) CB(block_bases)(s, p0, qe, B, base[j]);
        for (int co = 0; co < s->out_channels; co++) {
            const int kb = ptr[co], ke = ptr[co + 1];
            const float b = bias ? bias[co] : 0.0f;
            for (int p0 = q0, j = 0; p0 < qe; p0 += CP, j++) {
                const int np = qe - p0 < CP ? qe - p0 : CP;
                float *y = Y + ((long)co * npos + p0) * B;
                for (int c = 0; c < full; c += 2 * VLEN)
                    CB(forward_block)(kb, ke, offset, values, X, B, base[j], c, 0, all, all, b, relu, y, np);
                if (rem) CB(forward_block)(kb, ke, offset, values, X, B, base[j], full, 1, t0, t1, b, relu, y, np);
            }
        }
    }
}

// dX[base[p] + offset[k]] += values[k] · dY[p] for one block: the CP·2 dY vectors stay in registers, each tap is a
// load-FMA-store per vector. Dummy positions carry dY = 0 (they add 0 to position p0).
SK_INLINE void CB(input_gradient_block)(int kb, int ke, const int32_t *offset, const float *values, float *dX, long B,
                                        const long *base, int c, int masked, VM m0, VM m1, const float *dy, int np) {
    V d[CP][2];
    for (int p = 0; p < CP; p++) {
        if (p < np) {
            const float *q = dy + (long)p * B + c;
            d[p][0] = masked ? VMLOAD(m0, q) : VLOAD(q);
            d[p][1] = masked ? VMLOAD(m1, q + VLEN) : VLOAD(q + VLEN);
        } else {
            d[p][0] = VZERO(); d[p][1] = VZERO();
        }
    }
    for (int k = kb; k < ke; k++) {
        const V w = VSET1(values[k]);
        float *xk = dX + (long)offset[k] * B + c;
        for (int p = 0; p < CP; p++) {
            float *x = xk + base[p];
            if (masked) {
                VMSTORE(x, m0, VFMA(w, d[p][0], VMLOAD(m0, x)));
                VMSTORE(x + VLEN, m1, VFMA(w, d[p][1], VMLOAD(m1, x + VLEN)));
            } else {
                VSTORE(x, VFMA(w, d[p][0], VLOAD(x)));
                VSTORE(x + VLEN, VFMA(w, d[p][1], VLOAD(x + VLEN)));
            }
        }
    }
}

static void CB(conv_input_gradient)(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                                    const float *values, const float *dY, float *dX) {
    const int npos = s->out_height * s->out_width, full = B - B % (2 * VLEN), rem = B - full;
    const VM all = VMASK(VLEN);
    const VM t0 = VMASK(rem < VLEN ? rem : VLEN), t1 = VMASK(rem > VLEN ? rem - VLEN : 0);
    memset(dX, 0, sizeof(float) * (size_t)s->in_channels * s->in_height * s->in_width * (size_t)B);
    long base[CP];
    // Positions outer, channels inner: the block's receptive field in dX (all input channels) stays in L1/L2
    // while every output channel adds to it.
    for (int p0 = 0; p0 < npos; p0 += CP) {
        const int np = npos - p0 < CP ? npos - p0 : CP;
        CB(block_bases)(s, p0, npos, B, base);
        for (int co = 0; co < s->out_channels; co++) {
            const int kb = ptr[co], ke = ptr[co + 1];
            if (kb == ke) continue;
            const float *dy = dY + ((long)co * npos + p0) * B;
            for (int c = 0; c < full; c += 2 * VLEN)
                CB(input_gradient_block)(kb, ke, offset, values, dX, B, base, c, 0, all, all, dy, np);
            if (rem) CB(input_gradient_block)(kb, ke, offset, values, dX, B, base, full, 1, t0, t1, dy, np);
        }
    }
}

static void CB(conv_weight_gradient)(const sk_conv_shape *s, int B, const int32_t *ptr, const int32_t *offset,
                                     const float *dY, const float *X, float *G, float *bias_grad) {
    const int npos = s->out_height * s->out_width, full = B - B % VLEN, rem = B - full;
    const VM tail = VMASK(rem);
    if (bias_grad) {
        for (int co = 0; co < s->out_channels; co++) {
            const float *dyc = dY + (long)co * npos * B;
            V a0 = VZERO(), a1 = VZERO();
            const long n = (long)npos * B, n2 = n - n % (2 * VLEN);
            long i = 0;
            for (; i < n2; i += 2 * VLEN) { a0 = VADD(a0, VLOAD(dyc + i)); a1 = VADD(a1, VLOAD(dyc + i + VLEN)); }
            float sum = VHSUM(VADD(a0, a1));
            for (; i < n; i++) sum += dyc[i];
            bias_grad[co] = sum;
        }
    }
    memset(G, 0, sizeof(float) * (size_t)ptr[s->out_channels]);
    long base[CBAND];
    // Bands of output positions outer (their receptive field stays in L2), output channels and blocks of CT taps
    // inside; each band adds its partial sums to G.
    for (int q0 = 0; q0 < npos; q0 += CBAND) {
        const int nq = npos - q0 < CBAND ? npos - q0 : CBAND;
        for (int p = 0; p < nq; p++) {
            const int q = q0 + p, oh = q / s->out_width, ow = q - oh * s->out_width;
            base[p] = ((long)oh * s->stride * s->in_width + (long)ow * s->stride) * B;
        }
        for (int co = 0; co < s->out_channels; co++) {
            const float *dyb = dY + ((long)co * npos + q0) * B;
            for (int k0 = ptr[co]; k0 < ptr[co + 1]; k0 += CT) {
                const int nt = ptr[co + 1] - k0 < CT ? ptr[co + 1] - k0 : CT;
                const float *xt[CT];
                for (int t = 0; t < CT; t++) xt[t] = X + (long)offset[t < nt ? k0 + t : k0] * B;
                V a[CT];
                for (int t = 0; t < CT; t++) a[t] = VZERO();
                const float *dy = dyb;
                for (int p = 0; p < nq; p++, dy += B) {
                    const long bp = base[p];
                    int c = 0;
                    for (; c < full; c += VLEN) {
                        const V g = VLOAD(dy + c);
                        for (int t = 0; t < CT; t++) a[t] = VFMA(g, VLOAD(xt[t] + bp + c), a[t]);
                    }
                    if (rem) {
                        const V g = VMLOAD(tail, dy + c);
                        for (int t = 0; t < CT; t++) a[t] = VFMA(g, VMLOAD(tail, xt[t] + bp + c), a[t]);
                    }
                }
                for (int t = 0; t < nt; t++) G[k0 + t] += VHSUM(a[t]);
            }
        }
    }
}

#undef CP
#undef CT
#undef CBAND

/* The including file's parameters, undefined here so each instruction set can define them afresh. */
#undef CB
#undef VHSUM
