// The vector bodies of the hot sparse kernels (kernels.c), written once over the vector vocabulary of vector_isa.h
// and included once per instruction set inside that set's target-attribute region. Not a public header.
//
// Besides the vocabulary, the including file defines
//   KB(name)            the body's function name (name ## _avx2, name ## _avx512)
//   hsum8(a0, …, a7)    the eight horizontal sums of eight __m256 at once
//   VSUM_TAIL_IN_LANES  1: rowsum adds the last < VLEN columns in masked lanes before the horizontal sum (AVX-512);
//                       0: one by one after it (AVX2). The two give different sums; each body keeps its own
// and this file undefines KB and VSUM_TAIL_IN_LANES at its end. The tail of the element-wise kernels runs in masked
// lanes on both; every lane computes the same correctly rounded operations as the scalar loop, so the results are
// the same.

// One vector, whole or the first lanes of mk; `masked` is a compile-time constant after inlining.
SK_INLINE V KB(load)(int masked, VM mk, const float *p) { return masked ? VMLOAD(mk, p) : VLOAD(p); }
SK_INLINE void KB(store)(int masked, VM mk, float *p, V v) { if (masked) VMSTORE(p, mk, v); else VSTORE(p, v); }

// Post-ops fused into the store of a product (see ckernels.h), per lane exactly as post1: g points at the same
// element of G as the output (read only for op ≥ 3).
SK_INLINE V KB(post)(int op, V v, const float *g, V slope, int masked, VM mk) {
    switch (op) {
    case 1: return VMAX0(v);
    case 2: return VSEL(VGT0(v), v, VMUL(v, slope));
    case 3: return VKEEP(VGT0(KB(load)(masked, mk, g)), v);
    case 4: return VMUL(v, VSEL(VGT0(KB(load)(masked, mk, g)), VSET1(1.0f), slope));
    case 5: { const V a = KB(load)(masked, mk, g); return VMUL(v, VSUB(VSET1(1.0f), VMUL(a, a))); }
    default: return v;
    }
}

// MARK: sparse × dense

// Columns c ..< c + nv·VLEN in one chain per column: broadcast w, FMA with the X row chunk.
SK_INLINE void KB(spmm_one_chain)(int nv, int kb, int ke, const void *idx, int wide, const float *values,
                                  const float *X, int ldx, int c, V b0, float *y, const float *g, int post, V slope) {
    V a[8];
    for (int j = 0; j < nv; j++) a[j] = b0;
    for (int k = kb; k < ke; k++) {
        const V w = VSET1(values[k]);
        const float *x = X + (long)IX(idx, k) * ldx + c;
        for (int j = 0; j < nv; j++) a[j] = VFMA(w, VLOAD(x + j * VLEN), a[j]);
    }
    for (int j = 0; j < nv; j++) {
        const int o = c + j * VLEN;
        VSTORE(y + o, KB(post)(post, a[j], g + o, slope, 0, VMASK(VLEN)));
    }
}

// Columns c ..< c + nv·VLEN in two chains per column (alternate connections), added at the end.
SK_INLINE void KB(spmm_two_chains)(int nv, int kb, int ke, const void *idx, int wide, const float *values,
                                   const float *X, int ldx, int c, V b0, float *y, const float *g, int post, V slope) {
    V a[4], e[4];
    for (int j = 0; j < nv; j++) { a[j] = b0; e[j] = VZERO(); }
    int k = kb;
    for (; k + 2 <= ke; k += 2) {
        const V w = VSET1(values[k]), v = VSET1(values[k + 1]);
        const float *x = X + (long)IX(idx, k) * ldx + c, *u = X + (long)IX(idx, k + 1) * ldx + c;
        for (int j = 0; j < nv; j++) a[j] = VFMA(w, VLOAD(x + j * VLEN), a[j]);
        for (int j = 0; j < nv; j++) e[j] = VFMA(v, VLOAD(u + j * VLEN), e[j]);
    }
    if (k < ke) {
        const V w = VSET1(values[k]);
        const float *x = X + (long)IX(idx, k) * ldx + c;
        for (int j = 0; j < nv; j++) a[j] = VFMA(w, VLOAD(x + j * VLEN), a[j]);
    }
    for (int j = 0; j < nv; j++) {
        const int o = c + j * VLEN;
        VSTORE(y + o, KB(post)(post, VADD(a[j], e[j]), g + o, slope, 0, VMASK(VLEN)));
    }
}

// Every output column sums its connections in chains fixed by where it lies, whatever VLEN: in the first
// ⌊B/64⌋·64 columns one chain, then (if 32 are left) 32 columns in two, the rest in four. Wider registers only
// take more columns per pass over the row (AVX-512: 128 and then 64 columns in one chain), so the AVX2 and
// AVX-512 bodies give identical results.
SK_INLINE void KB(spmm_body)(int rows, const int32_t *ptr, const void *idx, int wide, const float *values,
                             const float *X, int ldx, int B,
                             const float *bias, float *Y, int ldy, int post, float slope, const float *G) {
    const V vslope = VSET1(slope);
    for (int r = 0; r < rows; r++) {
        const float *g = G ? G + (long)r * ldy : Y + (long)r * ldy;  // only read when post >= 3
        const int kb = ptr[r], ke = ptr[r + 1];
        const V b0 = VSET1(bias ? bias[r] : 0.0f);
        float *y = Y + (long)r * ldy;
        int c = 0;
        for (; c + 8 * VLEN <= B; c += 8 * VLEN)
            KB(spmm_one_chain)(8, kb, ke, idx, wide, values, X, ldx, c, b0, y, g, post, vslope);
        if (8 * VLEN > 64)  // a 64-column block left after the wider passes (AVX-512)
            for (; c + 64 <= B; c += 64)
                KB(spmm_one_chain)(64 / VLEN, kb, ke, idx, wide, values, X, ldx, c, b0, y, g, post, vslope);
        // 32 columns: two accumulator sets over alternate connections keep 2·32/VLEN FMA chains in flight.
        for (; c + 32 <= B; c += 32)
            KB(spmm_two_chains)(32 / VLEN, kb, ke, idx, wide, values, X, ldx, c, b0, y, g, post, vslope);
        // VLEN columns at a time (the last masked), four chains over the connections.
        for (; c < B; c += VLEN) {
            const VM mk = VMASK(B - c < VLEN ? B - c : VLEN);
            V a0 = b0, a1 = VZERO(), a2 = a1, a3 = a1;
            int k = kb;
            for (; k + 4 <= ke; k += 4) {
                a0 = VFMA(VSET1(values[k]), VMLOAD(mk, X + (long)IX(idx, k) * ldx + c), a0);
                a1 = VFMA(VSET1(values[k + 1]), VMLOAD(mk, X + (long)IX(idx, k + 1) * ldx + c), a1);
                a2 = VFMA(VSET1(values[k + 2]), VMLOAD(mk, X + (long)IX(idx, k + 2) * ldx + c), a2);
                a3 = VFMA(VSET1(values[k + 3]), VMLOAD(mk, X + (long)IX(idx, k + 3) * ldx + c), a3);
            }
            for (; k < ke; k++) a0 = VFMA(VSET1(values[k]), VMLOAD(mk, X + (long)IX(idx, k) * ldx + c), a0);
            VMSTORE(y + c, mk, KB(post)(post, VADD(VADD(a0, a1), VADD(a2, a3)), g + c, vslope, 1, mk));
        }
    }
}

// One copy of the body per index width (`wide` a constant in each).
static void KB(spmm)(int rows, const int32_t *ptr, const void *idx, int wide, const float *values,
                     const float *X, int ldx, int B, const float *bias, float *Y, int ldy,
                     int post, float slope, const float *G) {
    if (wide) KB(spmm_body)(rows, ptr, idx, 1, values, X, ldx, B, bias, Y, ldy, post, slope, G);
    else KB(spmm_body)(rows, ptr, idx, 0, values, X, ldx, B, bias, Y, ldy, post, slope, G);
}

// MARK: sums over the batch

static void KB(rowsum)(int rows, const float *X, int ldx, int B, float *out) {
    for (int r = 0; r < rows; r++) {
        const float *x = X + (long)r * ldx;
        int c = 0;
        V a0 = VZERO(), a1 = a0;
        for (; c + 2 * VLEN <= B; c += 2 * VLEN) {
            a0 = VADD(a0, VLOAD(x + c));
            a1 = VADD(a1, VLOAD(x + c + VLEN));
        }
        if (VSUM_TAIL_IN_LANES && c < B) {
            const int n = B - c < VLEN ? B - c : VLEN;
            a0 = VADD(a0, VMLOAD(VMASK(n), x + c));
            c += n;
        }
        rowsum_plain_from(c, x, B, hsum1(VFOLD8(VADD(a0, a1))), out + r);
    }
}

SK_INLINE void KB(sddmm_body)(int rows, const int32_t *ptr, const void *idx, int wide, const float *dY, int ldd,
                              const float *X, int ldx, int B, float *G, float *rowsum) {
    const int full = B & ~(VLEN - 1), rem = B - full;
    const VM mk = VMASK(rem);
    for (int r = 0; r < rows; r++) {
        const float *d = dY + (long)r * ldd;
        if (rowsum) KB(rowsum)(1, d, ldd, B, rowsum + r);  // brings dY[r, :] into L1 for the products below
        int k = ptr[r];
        const int ke = ptr[r + 1];
        // Eight connections at a time: dY[r, chunk] loaded once, eight FMA chains, one 8-way horizontal sum.
        for (; k + 8 <= ke; k += 8) {
            const float *x[8];
            V a[8];
            for (int t = 0; t < 8; t++) { x[t] = X + (long)IX(idx, k + t) * ldx; a[t] = VZERO(); }
            int c = 0;
            for (; c < full; c += VLEN) {
                const V g = VLOAD(d + c);
                for (int t = 0; t < 8; t++) a[t] = VFMA(g, VLOAD(x[t] + c), a[t]);
            }
            if (rem) {
                const V g = VMLOAD(mk, d + c);
                for (int t = 0; t < 8; t++) a[t] = VFMA(g, VMLOAD(mk, x[t] + c), a[t]);
            }
            _mm256_storeu_ps(G + k, hsum8(VFOLD8(a[0]), VFOLD8(a[1]), VFOLD8(a[2]), VFOLD8(a[3]),
                                          VFOLD8(a[4]), VFOLD8(a[5]), VFOLD8(a[6]), VFOLD8(a[7])));
        }
        // Remaining connections of the row one by one, two chains each.
        for (; k < ke; k++) {
            const float *x = X + (long)IX(idx, k) * ldx;
            V a0 = VZERO(), a1 = a0;
            int c = 0;
            for (; c + 2 * VLEN <= full; c += 2 * VLEN) {
                a0 = VFMA(VLOAD(d + c), VLOAD(x + c), a0);
                a1 = VFMA(VLOAD(d + c + VLEN), VLOAD(x + c + VLEN), a1);
            }
            for (; c < full; c += VLEN) a0 = VFMA(VLOAD(d + c), VLOAD(x + c), a0);
            if (rem) a1 = VFMA(VMLOAD(mk, d + c), VMLOAD(mk, x + c), a1);
            G[k] = hsum1(VFOLD8(VADD(a0, a1)));
        }
    }
}

static void KB(sddmm)(int rows, const int32_t *ptr, const void *idx, int wide, const float *dY, int ldd,
                      const float *X, int ldx, int B, float *G, float *rowsum) {
    if (wide) KB(sddmm_body)(rows, ptr, idx, 1, dY, ldd, X, ldx, B, G, rowsum);
    else KB(sddmm_body)(rows, ptr, idx, 0, dY, ldd, X, ldx, B, G, rowsum);
}

// MARK: element-wise: whole vectors, then the tail in masked lanes

SK_INLINE void KB(adam_lanes)(int masked, VM mk, float *w, const float *g, float *m, float *v, const float *mask,
                              int mask_mode, float beta1, float beta2, float ob1, float ob2, float step, float rbc2,
                              float eps, float decay, float cwd) {
    V wi = KB(load)(masked, mk, w), gi = KB(load)(masked, mk, g);
    V mi = KB(load)(masked, mk, m), vi = KB(load)(masked, mk, v);
    V k = VZERO();
    if (mask_mode == 1) {
        k = KB(load)(masked, mk, mask);
        gi = VMUL(gi, k); mi = VMUL(mi, k); vi = VMUL(vi, k);
    } else if (mask_mode == 2) {
        k = KB(load)(masked, mk, mask);
    }
    wi = VMUL(wi, VSET1(decay));
    gi = VFMA(VSET1(cwd), wi, gi);
    mi = VFMA(VSET1(beta1), mi, VMUL(VSET1(ob1), gi));
    vi = VFMA(VSET1(beta2), vi, VMUL(VSET1(ob2), VMUL(gi, gi)));
    const V den = VADD(VMUL(VSQRT(vi), VSET1(rbc2)), VSET1(eps));
    wi = VSUB(wi, VMUL(VSET1(step), VDIV(mi, den)));
    if (mask_mode) wi = VMUL(wi, k);
    KB(store)(masked, mk, w, wi); KB(store)(masked, mk, m, mi); KB(store)(masked, mk, v, vi);
}

static void KB(adam)(int n, float *w, const float *g, float *m, float *v, const float *mask, int mask_mode,
                     float beta1, float beta2, float ob1, float ob2, float step, float rbc2, float eps, float decay,
                     float cwd) {
    int i = 0;
    for (; i + VLEN <= n; i += VLEN)
        KB(adam_lanes)(0, VMASK(VLEN), w + i, g + i, m + i, v + i, mask ? mask + i : mask, mask_mode,
                       beta1, beta2, ob1, ob2, step, rbc2, eps, decay, cwd);
    if (i < n)
        KB(adam_lanes)(1, VMASK(n - i), w + i, g + i, m + i, v + i, mask ? mask + i : mask, mask_mode,
                       beta1, beta2, ob1, ob2, step, rbc2, eps, decay, cwd);
}

SK_INLINE void KB(leaky_forward_lanes)(int masked, VM mk, float s, const float *z, float *a) {
    const V x = KB(load)(masked, mk, z);
    KB(store)(masked, mk, a, VSEL(VGT0(x), x, VMUL(x, VSET1(s))));
}

SK_INLINE void KB(tanh_backward_lanes)(int masked, VM mk, const float *dA, const float *a, float *dZ) {
    const V y = KB(load)(masked, mk, a);
    KB(store)(masked, mk, dZ, VMUL(KB(load)(masked, mk, dA), VSUB(VSET1(1.0f), VMUL(y, y))));
}

SK_INLINE void KB(leaky_backward_lanes)(int masked, VM mk, float s, const float *dA, const float *z, float *dZ) {
    const V pos = KB(load)(masked, mk, z);
    KB(store)(masked, mk, dZ, VMUL(KB(load)(masked, mk, dA), VSEL(VGT0(pos), VSET1(1.0f), VSET1(s))));
}

static void KB(leaky_forward)(float s, const float *z, float *a, long n) {
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) KB(leaky_forward_lanes)(0, VMASK(VLEN), s, z + i, a + i);
    if (i < n) KB(leaky_forward_lanes)(1, VMASK((int)(n - i)), s, z + i, a + i);
}

static void KB(tanh_backward)(const float *dA, const float *a, float *dZ, long n) {
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) KB(tanh_backward_lanes)(0, VMASK(VLEN), dA + i, a + i, dZ + i);
    if (i < n) KB(tanh_backward_lanes)(1, VMASK((int)(n - i)), dA + i, a + i, dZ + i);
}

static void KB(leaky_backward)(float s, const float *dA, const float *z, float *dZ, long n) {
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) KB(leaky_backward_lanes)(0, VMASK(VLEN), s, dA + i, z + i, dZ + i);
    if (i < n) KB(leaky_backward_lanes)(1, VMASK((int)(n - i)), s, dA + i, z + i, dZ + i);
}

// MARK: masked-dense target update: the portable loops, compiled for this instruction set (the same operations in
// the same order, so the same results)

static long KB(blend_count)(long n, float *t, const float *o, float tau, long *onz) { return blend_count_body(n, t, o, tau, onz); }
static long KB(drop_keys)(long n, const float *t, uint64_t *keys) { return drop_keys_body(n, t, keys); }
static void KB(prune_mask)(long n, float *t, int prune, uint64_t threshold, float *mask) { prune_mask_body(n, t, prune, threshold, mask); }

/* The including file's parameters, undefined here so each instruction set can define them afresh. */
#undef KB
#undef VSUM_TAIL_IN_LANES
