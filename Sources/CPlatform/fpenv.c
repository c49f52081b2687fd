// The floating-point environment of the calling thread. See cplatform.h.
#include "cplatform.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
// MXCSR bit 15 flush-to-zero (results), bit 6 denormals-are-zero (inputs).
#define SP_FLUSH_BITS 0x8040u
static inline uint32_t get_state(void) { return _mm_getcsr(); }
static inline void set_state(uint32_t s) { _mm_setcsr(s); }
#elif defined(__aarch64__)
// FPCR bit 24 (FZ) flushes both inputs and results of single and double precision.
#define SP_FLUSH_BITS (1u << 24)
static inline uint32_t get_state(void) { uint64_t r; __asm__ volatile("mrs %0, fpcr" : "=r"(r)); return (uint32_t)r; }
static inline void set_state(uint32_t s) { uint64_t r = s; __asm__ volatile("msr fpcr, %0" : : "r"(r)); }
#else
#define SP_FLUSH_BITS 0u
static inline uint32_t get_state(void) { return 0; }
static inline void set_state(uint32_t s) { (void)s; }
#endif

uint32_t sp_fpenv_flush_begin(void) {
    const uint32_t s = get_state();
    // Writing the control register is slower than reading it: skip the write when nested or already set.
    if ((s & SP_FLUSH_BITS) != SP_FLUSH_BITS) set_state(s | SP_FLUSH_BITS);
    return s;
}

uint32_t sp_fpenv_ieee_begin(void) {
    const uint32_t s = get_state();
    if (s & SP_FLUSH_BITS) set_state(s & ~SP_FLUSH_BITS);
    return s;
}

void sp_fpenv_restore(uint32_t saved) {
    if (get_state() != saved) set_state(saved);
}

int sp_fpenv_flushing(void) { return SP_FLUSH_BITS != 0 && (get_state() & SP_FLUSH_BITS) == SP_FLUSH_BITS; }
