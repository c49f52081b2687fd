#pragma once
// Debian's libmujoco-dev (MuJoCo 2.2.2) ships no pkg-config file; the module map links "mujoco" itself.
#include <mujoco/mujoco.h>
