#include "mjguard.h"
#include "cplatform.h"
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stddef.h>

static _Thread_local jmp_buf* guard_point = NULL;
static _Thread_local char last_error[1024];
static _Thread_local char last_warning[1024];
static _Thread_local long warning_count = 0;

static void on_error(const char* msg) {
    snprintf(last_error, sizeof last_error, "%s", msg ? msg : "unknown MuJoCo error");
    if (guard_point) longjmp(*guard_point, 1);
    // An error outside any guarded call (should not happen: every Sparrow call that can fail is guarded).
    // Returning would let MuJoCo continue with corrupt state; abort with the message instead of exit(1).
    fprintf(stderr, "sparrow: MuJoCo error outside a guarded call: %s\n", last_error);
    abort();
}

static void on_warning(const char* msg) {
    snprintf(last_warning, sizeof last_warning, "%s", msg ? msg : "");
    warning_count++;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void install(void) {
    mju_user_error = on_error;
    mju_user_warning = on_warning;
}
void mjg_install_handlers(void) { pthread_once(&once, install); }

const char* mjg_last_error(void) { return last_error; }
const char* mjg_last_warning(void) { return last_warning; }
long mjg_warning_count(void) { return warning_count; }

int mjg_step(const mjModel* m, mjData* d, int count, int rne_post) {
    jmp_buf here;
    jmp_buf* outer = guard_point;
    guard_point = &here;
    // Physics in IEEE mode: a caller inside a network's flush-to-zero scope must not change the simulation.
    const uint32_t fp = sp_fpenv_ieee_begin();
    if (setjmp(here)) { guard_point = outer; sp_fpenv_restore(fp); return -1; }
    for (int i = 0; i < count; i++) mj_step(m, d);
    if (rne_post) mj_rnePostConstraint(m, d);
    guard_point = outer;
    sp_fpenv_restore(fp);
    return 0;
}

int mjg_forward(const mjModel* m, mjData* d) {
    jmp_buf here;
    jmp_buf* outer = guard_point;
    guard_point = &here;
    const uint32_t fp = sp_fpenv_ieee_begin();
    if (setjmp(here)) { guard_point = outer; sp_fpenv_restore(fp); return -1; }
    mj_forward(m, d);
    guard_point = outer;
    sp_fpenv_restore(fp);
    return 0;
}

mjData* mjg_make_data(const mjModel* m) {
    jmp_buf here;
    jmp_buf* outer = guard_point;
    guard_point = &here;
    if (setjmp(here)) { guard_point = outer; return NULL; }
    mjData* d = mj_makeData(m);
    guard_point = outer;
    return d;
}

int mjg_instability_count(const mjData* d) {
    return d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number
         + d->warning[mjWARN_BADQACC].number;
}

size_t mjg_snapshot_size(const mjData* d) { return offsetof(mjData, buffer) + (size_t)d->nbuffer; }

void mjg_snapshot(const mjData* d, void* out) {
    size_t header = offsetof(mjData, buffer);
    memcpy(out, d, header);
    memcpy((char*)out + header, d->buffer, (size_t)d->nbuffer);
}

int mjg_restore(mjData* d, const void* snapshot, size_t size) {
    size_t header = offsetof(mjData, buffer);
    if (size != mjg_snapshot_size(d)) return -1;
    const mjData* h = (const mjData*)snapshot;  // only the header part is read through this view
    if (h->nbuffer != d->nbuffer || h->nstack != d->nstack) return -1;
    memcpy(d, snapshot, header);
    d->pstack = 0;
    memcpy(d->buffer, (const char*)snapshot + header, (size_t)d->nbuffer);
    return 0;
}
