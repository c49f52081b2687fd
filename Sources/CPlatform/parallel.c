// NeuralNet's parallel regions: a thread-local mark (Swift has no thread-local storage of its own) and a pool of
// persistent workers that run the parts of a region.
//
// Why a pool of its own: a training step opens ~20 parallel regions of 20–300 µs each. Handing each to Dispatch
// (`concurrentPerform`) wakes a parked thread every time, and the wake-up (a futex round trip and a reschedule, tens
// of µs on a busy 2-vCPU VM) ate most of what the second thread saved. Here the workers stay hot: after a part
// they spin on the job counter for a while (`SPIN_NS`) and only then park on a condition variable, so the regions
// of one step, and of the next step after an environment step, find them awake.
//
// Parts are claimed, not assigned: the calling thread and every awake worker take the next unclaimed part until none
// is left, and the caller then waits only for parts a worker has already started. On a machine whose other cores are
// busy (a second run, a sweep, a shared cluster node) a worker may not get a core for milliseconds; with parts
// assigned per worker the caller waited that long for it in every region, and two threads ran a step 2.5× slower
// than one. Now the caller runs the part itself.
//
// The split into parts is the caller's (Parallel.swift), so the numbers do not depend on which thread runs a part.
#include "cplatform.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

static _Thread_local int in_region = 0;

int sp_parallel_region_enter(void) { const int previous = in_region; in_region = 1; return previous; }
void sp_parallel_region_leave(int previous) { in_region = previous; }
int sp_parallel_in_region(void) { return in_region; }

// How long an idle worker spins before it parks: longer than the gaps between the regions of a step and than an
// environment step between two training steps, short enough that an idle process (evaluation, I/O) goes quiet.
#define SPIN_NS 500000L
#define MAX_WORKERS 63

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic unsigned long generation;  // one per job; workers wait for it to move
    // The job's tag (its generation / 2, low 32 bits) above the next unclaimed part: a claim is a compare-and-swap
    // of the whole word, so a worker still holding an earlier job's fields can never take a part of this one.
    _Atomic uint64_t claim;
    _Atomic int done;                  // parts of the current job finished
    _Atomic int sleepers;              // workers parked (or about to park) on `wake`
    _Atomic int busy;                  // a job is being run (a second caller runs its job alone)
    // The current job, written before `generation` moves. A worker that sat one job out may read them while the
    // next job is being published, so it checks the generation again after reading them (as a seqlock reader).
    _Atomic(sp_task_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int parts;                 // parts of the current job
    int started;                       // workers created so far (under `lock`)
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

// The generation is odd while the caller writes a job's fields and even once they are published (a seqlock).
// Returns the next published generation after `seen`, with that job's fields in *parts, *fn, *ctx: spins on the
// counter for `SPIN_NS`, then parks. A worker that sat a job out may read the fields while the next job is being
// written, so it checks the generation again after reading them and retries if it moved.
static unsigned long next_job(unsigned long seen, int *parts, sp_task_fn *fn, void **ctx) {
    for (;;) {
        unsigned long g;
        long deadline = 0;
        for (int spins = 0;; spins++) {
            g = atomic_load_explicit(&pool.generation, memory_order_acquire);
            if (g != seen && (g & 1) == 0) break;
            if ((spins & 255) != 255) { cpu_relax(); continue; }
            // Give the core away now and then: where threads outnumber free cores, a spinning worker would take
            // the time slice of the thread doing the work (on an idle core this returns at once).
            sched_yield();
            const long t = now_ns();
            if (deadline == 0) { deadline = t + SPIN_NS; continue; }
            if (t < deadline) continue;
            // Park. `sleepers` is raised before the generation is read again and the caller moves the generation
            // before it reads `sleepers`, so one of the two sees the other: no wake-up is lost.
            pthread_mutex_lock(&pool.lock);
            atomic_fetch_add(&pool.sleepers, 1);
            while ((g = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.lock);
            deadline = 0;
        }
        *parts = atomic_load_explicit(&pool.parts, memory_order_relaxed);
        *fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
        *ctx = atomic_load_explicit(&pool.ctx, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&pool.generation, memory_order_relaxed) == g) return g;
    }
}

// The generation when each worker was created (under `busy`, so even and not moving): the worker waits for the
// job after it, even if the thread only starts running once that job is published.
static unsigned long start_generation[MAX_WORKERS + 1];

static uint64_t job_tag(unsigned long generation) { return (uint64_t)((generation >> 1) & 0xffffffffUL) << 32; }

static _Atomic int workers_held = 0;
void sp_parallel_hold_workers(int hold) { atomic_store(&workers_held, hold); }

// Runs unclaimed parts of the job tagged `tag` until none is left (or the job is another one by now).
static void run_parts(uint64_t tag, int parts, sp_task_fn fn, void *ctx) {
    uint64_t c = atomic_load_explicit(&pool.claim, memory_order_acquire);
    for (;;) {
        if ((c & 0xffffffff00000000ULL) != tag || (int)(c & 0xffffffffULL) >= parts) return;
        if (!atomic_compare_exchange_weak_explicit(&pool.claim, &c, c + 1, memory_order_acq_rel,
                                                   memory_order_acquire)) continue;
        fn(ctx, (int)(c & 0xffffffffULL));
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
        c = atomic_load_explicit(&pool.claim, memory_order_acquire);
    }
}

static void *worker_main(void *arg) {
    const int w = (int)(intptr_t)arg;
    unsigned long seen = start_generation[w];
    for (;;) {
        int parts;
        sp_task_fn fn;
        void *ctx;
        seen = next_job(seen, &parts, &fn, &ctx);
        // Held (a test): the worker sees the job but leaves every part to the caller.
        if (!atomic_load_explicit(&workers_held, memory_order_relaxed)) run_parts(job_tag(seen), parts, fn, ctx);
    }
    return NULL;
}

/// Starts workers 1 ..< n (those not running yet); returns how many parts can run (1 if threads cannot be made).
static int ensure_workers(int n) {
    if (n > MAX_WORKERS + 1) n = MAX_WORKERS + 1;
    pthread_mutex_lock(&pool.lock);
    while (pool.started + 1 < n) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        start_generation[pool.started + 1] = atomic_load(&pool.generation);
        const int ok = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)(pool.started + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        pool.started++;
    }
    const int available = pool.started + 1;
    pthread_mutex_unlock(&pool.lock);
    return n < available ? n : available;
}

void sp_parallel_run(int parts, sp_task_fn fn, void *ctx) {
    int expected = 0;
    if (parts <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        for (int p = 0; p < parts; p++) fn(ctx, p);  // one part, or another thread's job is running: do it alone
        return;
    }
    ensure_workers(parts);  // parts beyond the workers that could be made are claimed like the others
    // The previous job is finished (its parts all counted in `done`), so nothing reads `done` or claims a part
    // while they are reset; the new tag makes any claim still in flight for an earlier job fail.
    const unsigned long g = atomic_fetch_add(&pool.generation, 1) + 2;  // odd: the fields are being written
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.claim, job_tag(g), memory_order_relaxed);
    atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&pool.parts, parts, memory_order_relaxed);
    atomic_fetch_add(&pool.generation, 1);  // even (= g): published (sequentially consistent, see next_job)
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_parts(job_tag(g), parts, fn, ctx);
    // Only parts a worker has started are left; if that worker lost its core, yield so it gets it back sooner.
    for (int spins = 1; atomic_load_explicit(&pool.done, memory_order_acquire) < parts; spins++) {
        if ((spins & 255) != 0) cpu_relax(); else sched_yield();
    }
    atomic_store(&pool.busy, 0);
}
