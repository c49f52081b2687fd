// The vector vocabulary the kernel bodies (kernels_body.h, conv_body.h) are written in, for one instruction set.
// Not a public header. Include it inside that set's target-attribute region with SK_VECTOR_AVX2 or
// SK_VECTOR_AVX512 defined (this file undefines the selector), then the body; after the last body include it once
// more with neither defined, which only undefines the vocabulary.
//
//   V, VM, VLEN         vector type, lane-mask type, lanes
//   VZERO() VSET1(x) VLOAD(p) VMLOAD(m, p) VSTORE(p, v) VMSTORE(p, m, v) VFMA(a, b, c) = a·b + c
//   VADD VSUB VMUL VDIV (a, b)  VSQRT(v)  VMAX0(v) = max(v, 0)
//   VGT0(v)             the lanes where v > 0 (ordered: false for NaN), as a condition for:
//   VSEL(c, t, f)       t where c, else f;   VKEEP(c, v)  v where c, else +0
//   VMASK(n)            the first n lanes (0 ≤ n ≤ VLEN)
//   VFOLD8(v)           the lanes added down to eight (an __m256; v itself for AVX2), for the 8-lane sums below
// and, from the AVX2 part (the AVX-512 part is always included after it, and its region has AVX2 too):
//   hsum1(a)            Σ of an __m256's lanes: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))

#undef V
#undef VM
#undef VLEN
#undef VZERO
#undef VSET1
#undef VLOAD
#undef VMLOAD
#undef VSTORE
#undef VMSTORE
#undef VFMA
#undef VADD
#undef VSUB
#undef VMUL
#undef VDIV
#undef VSQRT
#undef VMAX0
#undef VGT0
#undef VSEL
#undef VKEEP
#undef VMASK
#undef VFOLD8

#if defined(SK_VECTOR_AVX2)
#undef SK_VECTOR_AVX2
// Lane mask for the first n (0 ≤ n ≤ 8) of 8 floats.
static inline __m256i lanes8(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

static inline float hsum1(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

#define V __m256
#define VM __m256i
#define VLEN 8
#define VZERO() _mm256_setzero_ps()
#define VSET1(x) _mm256_set1_ps(x)
#define VLOAD(p) _mm256_loadu_ps(p)
#define VMLOAD(m, p) _mm256_maskload_ps((p), (m))
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VMSTORE(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VSQRT(v) _mm256_sqrt_ps(v)
#define VMAX0(v) _mm256_max_ps((v), _mm256_setzero_ps())
#define VGT0(v) _mm256_cmp_ps((v), _mm256_setzero_ps(), _CMP_GT_OQ)
#define VSEL(c, t, f) _mm256_blendv_ps((f), (t), (c))
#define VKEEP(c, v) _mm256_and_ps((v), (c))
#define VMASK(n) lanes8(n)
#define VFOLD8(v) (v)

#elif defined(SK_VECTOR_AVX512)
#undef SK_VECTOR_AVX512
// Lane mask for the first n (0 ≤ n ≤ 16) of 16 floats.
static inline __mmask16 lanes16(int n) { return (__mmask16)((1u << n) - 1u); }

// The two halves added lane-wise.
static inline __m256 fold16(__m512 a) { return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1)); }

#define V __m512
#define VM __mmask16
#define VLEN 16
#define VZERO() _mm512_setzero_ps()
#define VSET1(x) _mm512_set1_ps(x)
#define VLOAD(p) _mm512_loadu_ps(p)
#define VMLOAD(m, p) _mm512_maskz_loadu_ps((m), (p))
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VMSTORE(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VSQRT(v) _mm512_sqrt_ps(v)
#define VMAX0(v) _mm512_max_ps((v), _mm512_setzero_ps())
#define VGT0(v) _mm512_cmp_ps_mask((v), _mm512_setzero_ps(), _CMP_GT_OQ)
#define VSEL(c, t, f) _mm512_mask_blend_ps((c), (f), (t))
#define VKEEP(c, v) _mm512_maskz_mov_ps((c), (v))
#define VMASK(n) lanes16(n)
#define VFOLD8(v) fold16(v)
#endif
