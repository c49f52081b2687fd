// Which OpenBLAS kernel family ("core") runs Sparrow's dense products, decided once before `main`.
//
// Debian 12's OpenBLAS 0.3.21 is built with DYNAMIC_ARCH: at load time it reads the CPU model and picks a kernel
// table. A CPU newer than its model table (e.g. Xeon Emerald Rapids, family 6 model 207) gets a generic fallback
// such as Prescott: SSE3 kernels at a quarter of the AVX-512 speed, with nothing said. OpenBLAS's own remedy is
// the OPENBLAS_CORETYPE variable, read only when the library initialises, i.e. before any of our code runs.
//
// Mechanism, and why: the constructor below runs after OpenBLAS's own (a library's constructors run before
// those of the objects that depend on it) and before `main`, in every program that links Sparrow's numeric
// code — the CLI, the test runner and a Swift user's program alike. If the core OpenBLAS picked is a generic
// one on a CPU with AVX2 or AVX-512 (features from CPUID and XGETBV), it asks OpenBLAS to initialise again
// through its exported `gotoblas_dynamic_quit` / `gotoblas_dynamic_init` with OPENBLAS_CORETYPE set to the best
// family those features support — the same code path the variable takes at load time — then checks a small
// sgemm against a plain reference (a SIGILL guard around it) and returns to OpenBLAS's own choice if anything is
// off. Rejected: re-executing the process with the variable set (the CLI only; not tests or library users);
// loading OpenBLAS with dlopen after setting it (every BLAS call through function pointers, and a library
// user's own OpenBLAS would be a second copy). Everything is looked up with dlsym, so another BLAS, or an
// OpenBLAS without DYNAMIC_ARCH, is left alone and reported as such. A user's OPENBLAS_CORETYPE always wins.
#define _GNU_SOURCE
#include "cplatform.h"
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef char *(*corename_fn)(void);
typedef void (*void_fn)(void);
typedef int (*get_threads_fn)(void);
typedef void (*set_threads_fn)(int);
typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);

static sp_blas_core_info info = {.verified = -1};

static struct {
    corename_fn corename;
    void_fn quit, init, shutdown_threads;
    get_threads_fn get_threads;
    set_threads_fn set_threads;
    sgemm_fn sgemm;
} ob;

const sp_blas_core_info *sp_blas_core(void) { return &info; }

const char *sp_blas_core_name(void) { return ob.corename ? ob.corename() : ""; }

// Cores whose sgemm kernels predate AVX2: on a CPU with AVX2 these are OpenBLAS's "model unknown" fallbacks.
// (AMD's Bulldozer family tables are picked by family, so OpenBLAS does know such a CPU: not listed.)
int sp_blas_core_is_generic(const char *core) {
    static const char *generic[] = {"Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom",
                                    "Core2", "Penryn", "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron_SSE3",
                                    "Barcelona", "Nano", "Sandybridge", "Bobcat"};
    for (size_t i = 0; i < sizeof generic / sizeof *generic; i++)
        if (strcasecmp(core, generic[i]) == 0) return 1;
    return 0;
}

// The best family the CPU's features support (OpenBLAS 0.3.21 names). Cooperlake's sgemm is SkylakeX's with other
// blocking; it also has the bf16 kernels, hence the feature test.
static const char *best_core(const sp_cpu_features *f) {
    if (f->avx512) return f->avx512_bf16 ? "Cooperlake" : "SkylakeX";
    if (f->avx2_fma) return f->amd ? "Zen" : "Haswell";
    return NULL;
}

// Re-runs OpenBLAS's kernel selection with OPENBLAS_CORETYPE = core (NULL: its own detection).
//
// OpenBLAS's worker threads must not run meanwhile: a worker that starts late runs `gotoblas_dynamic_init` itself
// (from its first `blas_memory_alloc`), whose `gotoblas = get_coretype()` is NULL for a CPU model it does not
// know until it falls back to Prescott — and our thread, between its own check and its call through `gotoblas`,
// crashes on that NULL (seen once in a few hundred starts on an Emerald Rapids Xeon). So the workers are stopped
// first (`blas_thread_shutdown_`, what OpenBLAS's fork handler calls; it joins them); OpenBLAS starts them again
// when a threaded call next needs them.
static void reselect(const char *core) {
    if (ob.shutdown_threads) ob.shutdown_threads();
    if (core) setenv("OPENBLAS_CORETYPE", core, 1);
    ob.quit();
    ob.init();
    if (core) unsetenv("OPENBLAS_CORETYPE");  // a child process (a sweep's runs) decides for itself
}

static sigjmp_buf ill_jump;
static void on_sigill(int sig) { (void)sig; siglongjmp(ill_jump, 1); }

// C = A·B for a few awkward shapes (edge kernels) against a double-precision loop; 1 if every entry agrees.
static int sgemm_is_correct(void) {
    static const int shapes[][3] = {{37, 29, 41}, {64, 64, 64}, {1, 256, 23}, {100, 3, 256}};
    enum { MAXN = 256 * 256 };
    static float a[MAXN], b[MAXN], c[MAXN];
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        uint32_t x = 12345u + (uint32_t)s;
        for (int i = 0; i < m * k; i++) { x = x * 1664525u + 1013904223u; a[i] = (float)((int)(x >> 9) - (1 << 22)) / (float)(1 << 22); }
        for (int i = 0; i < k * n; i++) { x = x * 1664525u + 1013904223u; b[i] = (float)((int)(x >> 9) - (1 << 22)) / (float)(1 << 22); }
        for (int i = 0; i < m * n; i++) c[i] = NAN;
        ob.sgemm(101 /* RowMajor */, 111 /* NoTrans */, 111, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double r = 0, mag = 0;
                for (int p = 0; p < k; p++) { r += (double)a[i * k + p] * b[p * n + j]; mag += fabs((double)a[i * k + p] * b[p * n + j]); }
                if (!(fabs(c[i * n + j] - r) <= 1e-5 * mag + 1e-30)) return 0;
            }
    }
    return 1;
}

// Runs the check on one thread with SIGILL caught: 1 correct, 0 wrong, -2 illegal instruction.
static int verify(void) {
    const int threads = ob.get_threads ? ob.get_threads() : 1;
    if (ob.set_threads) ob.set_threads(1);  // the guard below only covers this thread
    struct sigaction ill = {0}, old;
    ill.sa_handler = on_sigill;
    sigemptyset(&ill.sa_mask);
    sigaction(SIGILL, &ill, &old);
    int result;
    if (sigsetjmp(ill_jump, 1) == 0) result = sgemm_is_correct(); else result = -2;
    sigaction(SIGILL, &old, NULL);
    if (ob.set_threads) ob.set_threads(threads);
    return result;
}

__attribute__((constructor)) static void sp_blas_select_core(void) {
    // The global scope first; then OpenBLAS by name, for a program that loaded it privately (RTLD_LOCAL).
    void *lib = RTLD_DEFAULT;
    if (!dlsym(lib, "openblas_get_corename")) lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) lib = RTLD_DEFAULT;
    ob.corename = (corename_fn)dlsym(lib, "openblas_get_corename");
    ob.quit = (void_fn)dlsym(lib, "gotoblas_dynamic_quit");
    ob.init = (void_fn)dlsym(lib, "gotoblas_dynamic_init");
    ob.shutdown_threads = (void_fn)dlsym(lib, "blas_thread_shutdown_");
    ob.get_threads = (get_threads_fn)dlsym(lib, "openblas_get_num_threads");
    ob.set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
    ob.sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
    if (!ob.corename) {
        snprintf(info.note, sizeof info.note, "not OpenBLAS: left as it is");
        return;
    }
    const int dynamic = ob.quit && ob.init;
    // Tests only: make OpenBLAS start from this core, as on a CPU whose model it does not know.
    const char *simulate = getenv("SPARROW_BLAS_TEST_DETECTED");
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (simulate && *simulate && !user && dynamic) reselect(simulate);
    snprintf(info.detected, sizeof info.detected, "%s", ob.corename());
    snprintf(info.in_use, sizeof info.in_use, "%s", info.detected);
    const sp_cpu_features *cpu = sp_cpu();
    const char *best = best_core(cpu);
    if (user) {
        info.user_set = 1;
        snprintf(info.note, sizeof info.note, "OPENBLAS_CORETYPE=%s set by the user: OpenBLAS chose %s", user, info.detected);
    } else if (!dynamic) {
        snprintf(info.note, sizeof info.note, "OpenBLAS without DYNAMIC_ARCH: core %s is fixed", info.detected);
    } else if (best && sp_blas_core_is_generic(info.detected)) {
        reselect(best);
        const char *now = ob.corename();
        const int ok = strcasecmp(now, best) == 0 ? verify() : 0;
        if (ok == 1) {
            info.changed = 1;
            info.verified = 1;
            snprintf(info.in_use, sizeof info.in_use, "%s", now);
            snprintf(info.note, sizeof info.note, "OpenBLAS fell back to %s on this CPU; using %s, which its features support",
                     info.detected, now);
            return;
        }
        snprintf(info.note, sizeof info.note, "OpenBLAS fell back to %s; %s %s, so %s stays", info.detected, best,
                 ok == -2 ? "raised an illegal instruction" : "failed the sgemm check", info.detected);
        reselect(simulate && *simulate ? simulate : NULL);
        snprintf(info.in_use, sizeof info.in_use, "%s", ob.corename());
    } else {
        snprintf(info.note, sizeof info.note, "OpenBLAS chose %s", info.detected);
    }
    if (!ob.sgemm) return;
    const int v = verify();
    info.verified = v == 1;
    info.illegal = v == -2;
    if (v != 1) {
        const size_t n = strlen(info.note);
        snprintf(info.note + n, sizeof info.note - n, "; its sgemm %s on this CPU",
                 v == -2 ? "raised an illegal instruction" : "failed the reference check");
    }
}
