// The viewer (issue 5): `WindowViewer` (an interactive GLFW window), `Recorder` (offscreen frames, video through
// ffmpeg or PNG files), both over a `ReplaySession` (an environment driven by a trained policy, random or zero
// actions). `SceneRenderer` holds MuJoCo's mjv/mjr state; `GLContext` makes the OpenGL context (GLFW window or
// surfaceless EGL); `PNG` is a small self-contained PNG writer.
