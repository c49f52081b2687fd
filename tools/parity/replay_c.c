/*
 * replay_c: step a model with the SYSTEM libmujoco (the one Swift links, Debian libmujoco 2.2.2)
 * to check that it reproduces the Gymnasium fixtures recorded with the pip wheel's libmujoco.
 *
 * Build:  gcc -O2 -o /tmp/replay_c tools/parity/replay_c.c -lmujoco
 * Driven by tools/parity/replay_system_lib.py, which writes the input and compares the output.
 *
 * stdin:  nsteps frame_skip
 *         qpos[nq]              (reset state; the model gives nq, nv, nu)
 *         qvel[nv]
 *         nsteps lines of ctrl[nu]
 * stdout: per step one line: qpos[nq] qvel[nv] cfrc_ext[nbody*6] xpos[1][0..2] ncon  (%.17g)
 * Reset protocol = Gymnasium's: mj_resetData, set qpos/qvel, mj_forward.
 * Step protocol = Gymnasium's: ctrl = action; mj_step x frame_skip; mj_rnePostConstraint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <mujoco/mujoco.h>

static double rd(void) {
  double x;
  if (scanf("%lf", &x) != 1) { fprintf(stderr, "bad input\n"); exit(2); }
  return x;
}

int main(int argc, char** argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s model.xml < input\n", argv[0]); return 2; }
  char err[1000] = "";
  mjModel* m = mj_loadXML(argv[1], NULL, err, sizeof(err));
  if (!m) { fprintf(stderr, "load error: %s\n", err); return 1; }
  mjData* d = mj_makeData(m);
  int nsteps = (int)rd(), fs = (int)rd();
  mj_resetData(m, d);
  for (int i = 0; i < m->nq; i++) d->qpos[i] = rd();
  for (int i = 0; i < m->nv; i++) d->qvel[i] = rd();
  mj_forward(m, d);
  for (int t = 0; t < nsteps; t++) {
    for (int i = 0; i < m->nu; i++) d->ctrl[i] = rd();
    for (int k = 0; k < fs; k++) mj_step(m, d);
    mj_rnePostConstraint(m, d);
    for (int i = 0; i < m->nq; i++) printf("%.17g ", d->qpos[i]);
    for (int i = 0; i < m->nv; i++) printf("%.17g ", d->qvel[i]);
    for (int i = 0; i < 6 * m->nbody; i++) printf("%.17g ", d->cfrc_ext[i]);
    for (int i = 0; i < 3; i++) printf("%.17g ", d->xpos[3 + i]);
    printf("%d\n", d->ncon);
  }
  mj_deleteData(d);
  mj_deleteModel(m);
  return 0;
}
