#pragma once
// Process-level platform facts and settings for Sparrow's numeric code, in plain C (compiled without -mavx2, so
// it runs on any x86-64 CPU and can decide what the rest may use):
//   - the floating-point environment: flush subnormals for network arithmetic, IEEE mode for physics;
//   - CPU features (CPUID + what the OS enables through XGETBV);
//   - which OpenBLAS kernel family ("core") is in use, and the fix for CPUs OpenBLAS 0.3.21 does not know.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: floating-point environment (this thread only)

/// Sets flush-to-zero and denormals-are-zero (x86 MXCSR FTZ|DAZ, AArch64 FPCR.FZ) and returns the previous
/// state for `sp_fpenv_restore`. Subnormal floats cost ~100 cycles per operation on x86 cores; network weights,
/// moments and gradients drift into that range during long runs (see NeuralNet/Subnormals.swift).
uint32_t sp_fpenv_flush_begin(void);
/// Clears flush-to-zero and denormals-are-zero (full IEEE 754 gradual underflow) and returns the previous state.
/// The MuJoCo guard runs physics in this mode, whatever the caller set, so simulations stay bit-exact.
uint32_t sp_fpenv_ieee_begin(void);
/// Restores a state returned by one of the two above.
void sp_fpenv_restore(uint32_t saved);
/// 1 if this thread currently flushes subnormals.
int sp_fpenv_flushing(void);

// MARK: CPU features

typedef struct {
    int avx2_fma;      ///< AVX2 and FMA, with YMM state enabled by the OS
    int avx512;        ///< AVX-512 F, CD, BW, DQ, VL, with ZMM state enabled by the OS (OpenBLAS SkylakeX's needs)
    int avx512_bf16;   ///< AVX512_BF16 (Cooper Lake, Sapphire Rapids and later, Zen 4)
    int amd;           ///< vendor AuthenticAMD
    int family, model; ///< display family / model
    char brand[49];    ///< the CPUID brand string, trimmed
} sp_cpu_features;

/// The running CPU's features (computed once).
const sp_cpu_features *sp_cpu(void);

// MARK: OpenBLAS kernel family

typedef struct {
    char detected[32];  ///< what OpenBLAS chose by itself at load time ("" if this is not OpenBLAS)
    char in_use[32];    ///< the core in use now
    int user_set;       ///< OPENBLAS_CORETYPE was set by the user: left alone
    int changed;        ///< Sparrow replaced a generic fallback core by `in_use`
    int verified;       ///< a small sgemm on the core in use matched a plain reference (1), failed (0), not run (-1)
    int illegal;        ///< that sgemm raised an illegal instruction (the core needs features this CPU lacks)
    char note[160];     ///< one line saying what happened and why
} sp_blas_core_info;

/// The BLAS core decision, made once, before `main`, by a constructor in this library (so the CLI, tests and
/// library users all get it): see blascore.c.
const sp_blas_core_info *sp_blas_core(void);

/// Name of the OpenBLAS core in use right now ("" if this is not OpenBLAS).
const char *sp_blas_core_name(void);

/// 1 if `core` is one of OpenBLAS's pre-AVX2 kernel families, which on a CPU with AVX2 means "model unknown".
int sp_blas_core_is_generic(const char *core);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
// MARK: parallel regions (NeuralNet/Parallel.swift)

/// Marks the calling thread as running one part of a parallel region; returns the previous mark for `leave`.
int sp_parallel_region_enter(void);
void sp_parallel_region_leave(int previous);
/// 1 inside a parallel region: nested work stays on this thread.
int sp_parallel_in_region(void);
/// A part of a parallel job: fn(ctx, part).
typedef void (*sp_task_fn)(void *ctx, int part);
/// Runs fn(ctx, p) for every p in 0..<parts and returns when all are done, on the calling thread and up to parts − 1
/// persistent workers (started on first use, kept spinning for a while after each job, then parked), each claiming
/// the next part not yet taken, so which thread runs a part is not fixed. Jobs do not nest: a call while another
/// thread's job runs runs its parts one after the other on the calling thread.
void sp_parallel_run(int parts, sp_task_fn fn, void *ctx);
/// Test hook: while `hold` is 1 the workers claim no parts, as if none of them had a core (the caller runs all).
void sp_parallel_hold_workers(int hold);
#ifdef __cplusplus
}
#endif
