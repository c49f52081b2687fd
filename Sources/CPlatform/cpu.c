// CPU features from CPUID, checked against the register state the OS enables (XGETBV): a CPU can have AVX-512
// units that the kernel does not save on context switch, and then the instructions fault. See cplatform.h.
#include "cplatform.h"
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(sp_cpu_features *f) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    const unsigned maxLeaf = a;
    f->amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;  // "AuthenticAMD"
    __get_cpuid(1, &a, &b, &c, &d);
    const unsigned baseFamily = (a >> 8) & 0xF, baseModel = (a >> 4) & 0xF;
    f->family = (int)(baseFamily + (baseFamily == 0xF ? (a >> 20) & 0xFF : 0));
    f->model = (int)(baseModel | ((baseFamily == 0x6 || baseFamily == 0xF) ? ((a >> 16) & 0xF) << 4 : 0));
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    const int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xE6) == 0xE6;
    if (maxLeaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        const int avx2 = (b >> 5) & 1;
        const int f512 = (b >> 16) & 1, dq = (b >> 17) & 1, cd = (b >> 28) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
        f->avx2_fma = avx && avx2 && fma && ymm;
        f->avx512 = f->avx2_fma && f512 && dq && cd && bw && vl && zmm;
        __cpuid_count(7, 1, a, b, c, d);
        f->avx512_bf16 = f->avx512 && ((a >> 5) & 1);
    }
    __get_cpuid(0x80000000u, &a, &b, &c, &d);
    if (a >= 0x80000004u) {
        unsigned w[12];
        for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002u + i, &w[4 * i], &w[4 * i + 1], &w[4 * i + 2], &w[4 * i + 3]);
        char raw[49];
        memcpy(raw, w, 48);
        raw[48] = 0;
        const char *s = raw;
        while (*s == ' ') s++;
        strncpy(f->brand, s, sizeof f->brand - 1);
        for (long n = (long)strlen(f->brand) - 1; n >= 0 && f->brand[n] == ' '; n--) f->brand[n] = 0;
    }
}
#else
static void detect(sp_cpu_features *f) { (void)f; }
#endif

static sp_cpu_features features;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init(void) { detect(&features); }

const sp_cpu_features *sp_cpu(void) {
    pthread_once(&once, init);
    return &features;
}
