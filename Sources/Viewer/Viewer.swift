// The viewer (issue 5): `WindowViewer` (an interactive GLFW window), `Recorder` (offscreen frames, video through
// ffmpeg or PNG files), both over a `ReplaySession` (an environment driven by a trained policy, random or zero
// actions). A session draws a `ReplayScene`: a robot's own simulation, or for a classic-control task a display-only
// MuJoCo model posed from the task's state (`ClassicControlScene`); `makeReplaySession(envName:source:seed:)` picks
// the right one by name. `SceneRenderer` holds MuJoCo's mjv/mjr state; `GLContext` makes the OpenGL context (GLFW
// window or surfaceless EGL); `PNG` is a small self-contained PNG writer.
