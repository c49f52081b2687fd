#pragma once
// Guarded entry points into MuJoCo. MuJoCo reports fatal errors through mju_error, whose default handler prints
// and calls exit(). Sparrow installs a handler that longjmps back to the guarded call instead, so an error
// becomes a return code (and a thrown Swift error) while the process, its run directory and checkpoints live on.
// Swift frames cannot be unwound by longjmp, so the setjmp points live here in C, around MuJoCo calls only.
#include <mujoco/mujoco.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Installs Sparrow's mju_user_error / mju_user_warning handlers (idempotent, thread-safe).
void mjg_install_handlers(void);

/// Text of the last MuJoCo error on this thread ("" if none).
const char* mjg_last_error(void);
/// Text of the last MuJoCo warning on this thread ("" if none) and how many warnings this thread has seen.
const char* mjg_last_warning(void);
long mjg_warning_count(void);

/// mj_step `count` times, then (if `rne_post`) mj_rnePostConstraint. Returns 0, or -1 after a MuJoCo error
/// (the data is then in an undefined state: reset it).
int mjg_step(const mjModel* m, mjData* d, int count, int rne_post);
/// mj_forward under the guard; 0 or -1.
int mjg_forward(const mjModel* m, mjData* d);
/// mj_makeData under the guard; NULL after an error.
mjData* mjg_make_data(const mjModel* m);

/// How many times MuJoCo has flagged a bad (NaN/huge) number in qpos, qvel or qacc in this data since its
/// last reset. MuJoCo resets the state itself when it sees one, so a change in this count marks a diverged step.
int mjg_instability_count(const mjData* d);

/// Byte-exact snapshot of an mjData (for exact resume): the scalar header (everything before the `buffer`
/// pointer: time, contact/constraint counts, warnings, solver statistics) followed by the whole main buffer,
/// where MuJoCo 2.2.2 keeps every array (qpos … qacc_warmstart … efc_*). Lagged derived quantities such as
/// xpos after mj_step are restored exactly too, which a qpos/qvel-only state would not do.
size_t mjg_snapshot_size(const mjData* d);
void mjg_snapshot(const mjData* d, void* out);
/// Restores a snapshot taken from an mjData of the same model; -1 if the size or layout does not match.
int mjg_restore(mjData* d, const void* snapshot, size_t size);

#ifdef __cplusplus
}
#endif
