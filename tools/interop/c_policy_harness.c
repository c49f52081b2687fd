/* Runs a policy exported by `sparrow export --c` on observations read from stdin; compiled by
 * tools/interop/check_policy_export.py with the policy file included:
 *
 *     cc -O2 -DPOLICY_C='"policy.c"' tools/interop/c_policy_harness.c -lm
 *
 * stdin: int32 N, then N * SPARROW_POLICY_OBSERVATIONS float64 (little-endian, as numpy writes them).
 * stdout, default: the N actions, N * SPARROW_POLICY_ACTIONS float32 (DQN: N int32 greedy actions), then the N
 *   network outputs, N * SPARROW_POLICY_OUTPUTS float32.
 * stdout, with `--time ROUNDS`: one JSON line {"ns_per_action": best of 5 runs of ROUNDS passes over the N
 *   observations, "actions": N * ROUNDS}.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include POLICY_C

static volatile float sink;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void act(const double *obs, float *out) {
#if SPARROW_POLICY_DISCRETE
    out[0] = (float)sparrow_policy(obs);
#else
    sparrow_policy(obs, out);
#endif
}

int main(int argc, char **argv) {
    int n;
    if (fread(&n, sizeof n, 1, stdin) != 1 || n <= 0) { fprintf(stderr, "harness: bad observation count\n"); return 2; }
    double *obs = malloc(sizeof(double) * (size_t)n * SPARROW_POLICY_OBSERVATIONS);
    if (fread(obs, sizeof(double) * SPARROW_POLICY_OBSERVATIONS, (size_t)n, stdin) != (size_t)n) {
        fprintf(stderr, "harness: expected %d observations of %d values\n", n, SPARROW_POLICY_OBSERVATIONS);
        return 2;
    }
    float action[SPARROW_POLICY_ACTIONS], output[SPARROW_POLICY_OUTPUTS];
    if (argc == 3 && strcmp(argv[1], "--time") == 0) {
        int rounds = atoi(argv[2]);
        double best = 1e300;
        for (int run = 0; run < 5; run++) {
            double t0 = now_ns();
            for (int r = 0; r < rounds; r++)
                for (int i = 0; i < n; i++) { act(obs + (size_t)i * SPARROW_POLICY_OBSERVATIONS, action); sink = action[0]; }
            double per = (now_ns() - t0) / ((double)rounds * n);
            if (per < best) best = per;
        }
        printf("{\"ns_per_action\": %.1f, \"actions\": %ld}\n", best, (long)rounds * n);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const double *o = obs + (size_t)i * SPARROW_POLICY_OBSERVATIONS;
#if SPARROW_POLICY_DISCRETE
        int a = sparrow_policy(o);
        fwrite(&a, sizeof a, 1, stdout);
#else
        sparrow_policy(o, action);
        fwrite(action, sizeof(float), SPARROW_POLICY_ACTIONS, stdout);
#endif
    }
    for (int i = 0; i < n; i++) {
        sparrow_policy_network(obs + (size_t)i * SPARROW_POLICY_OBSERVATIONS, output);
        fwrite(output, sizeof(float), SPARROW_POLICY_OUTPUTS, stdout);
    }
    free(obs);
    return 0;
}
