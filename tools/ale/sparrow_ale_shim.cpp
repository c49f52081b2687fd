// Sparrow's C API over the Arcade Learning Environment's C++ ALEInterface.
//
// Built by tools/ale/build.sh together with ALE (GPL-2.0-only) into libsparrow_ale.so, which `sparrow` dlopen()s at
// run time only when an Atari task is asked for: the `sparrow` binary holds no ALE code. ALE has had no C API since
// 2020; a plain C ABI (opaque handle, ints, byte buffers) keeps the Swift side a handful of dlsym'd function pointers
// with no C++ interop. Every entry point catches C++ exceptions: a failure returns a negative code and leaves one
// line in sparrow_ale_last_error(handle) (or in the thread-local creation error for create()).
//
// This file is Sparrow's (MIT); the library built from it with ALE is covered by ALE's GPL-2.0 (see README).

#include "ale/ale_interface.hpp"

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#define SPARROW_ALE_API extern "C" __attribute__((visibility("default")))

namespace {
// Bumped when a signature below changes; the Swift side refuses a library with another version.
constexpr int kABIVersion = 1;

struct Handle {
  ale::ALEInterface ale;
  std::vector<unsigned char> screen;  // reused by the screen copies (no allocation per frame)
  std::string state;                  // the last cloneState() serialisation, until it is copied out
  std::string error;
};

thread_local std::string createError;

// StellaEnvironment keeps the actions sticky frames repeat in private members that ALEState does not serialise.
// An explicit template instantiation may name private members ([temp.explicit]: access is not checked there), which
// hands the shim pointers to them without changing ALE's source.
template <typename Tag, typename Tag::type Member>
struct Expose {
  friend typename Tag::type member(Tag) { return Member; }
};
struct PlayerAAction { using type = ale::Action ale::StellaEnvironment::*; friend type member(PlayerAAction); };
struct PlayerBAction { using type = ale::Action ale::StellaEnvironment::*; friend type member(PlayerBAction); };
struct PaddleAStrength { using type = float ale::StellaEnvironment::*; friend type member(PaddleAStrength); };
struct PaddleBStrength { using type = float ale::StellaEnvironment::*; friend type member(PaddleBStrength); };
template struct Expose<PlayerAAction, &ale::StellaEnvironment::m_player_a_action>;
template struct Expose<PlayerBAction, &ale::StellaEnvironment::m_player_b_action>;
template struct Expose<PaddleAStrength, &ale::StellaEnvironment::m_paddle_a_strength>;
template struct Expose<PaddleBStrength, &ale::StellaEnvironment::m_paddle_b_strength>;

/// What a sticky frame repeats: each player's last action and paddle strength.
struct StickyActions {
  int32_t a, b;
  float strengthA, strengthB;
  static StickyActions of(ale::StellaEnvironment& e) {
    return {static_cast<int32_t>(e.*member(PlayerAAction())), static_cast<int32_t>(e.*member(PlayerBAction())),
            e.*member(PaddleAStrength()), e.*member(PaddleBStrength())};
  }
  void restore(ale::StellaEnvironment& e) const {
    e.*member(PlayerAAction()) = static_cast<ale::Action>(a);
    e.*member(PlayerBAction()) = static_cast<ale::Action>(b);
    e.*member(PaddleAStrength()) = strengthA;
    e.*member(PaddleBStrength()) = strengthB;
  }
};
constexpr char kStickyMagic[8] = {'S', 'P', 'R', 'W', 'S', 'T', 'K', '1'};

template <typename F>
int guarded(Handle* h, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    h->error = e.what();
  } catch (...) {
    h->error = "unknown C++ exception in ALE";
  }
  return -1;
}
}  // namespace

// ---- library ------------------------------------------------------------------------------------------------------
/// The C ABI version of this library (kABIVersion).
SPARROW_ALE_API int sparrow_ale_abi_version(void) { return kABIVersion; }
/// ALE's version string, e.g. "0.12.1".
SPARROW_ALE_API const char* sparrow_ale_version(void) { return ALE_VERSION; }

// ---- lifetime -----------------------------------------------------------------------------------------------------
/// A new ALE instance with its logger set to errors only (as ale-py's AtariEnv does), or NULL (see create_error).
SPARROW_ALE_API Handle* sparrow_ale_create(void) {
  try {
    ale::Logger::setMode(ale::Logger::Error);
    return new Handle();
  } catch (const std::exception& e) {
    createError = e.what();
  } catch (...) {
    createError = "unknown C++ exception creating ALEInterface";
  }
  return nullptr;
}
SPARROW_ALE_API const char* sparrow_ale_create_error(void) { return createError.c_str(); }
SPARROW_ALE_API void sparrow_ale_destroy(Handle* h) { delete h; }
/// The message of the last failed call on `h`.
SPARROW_ALE_API const char* sparrow_ale_last_error(Handle* h) { return h->error.c_str(); }

// ---- settings (take effect at the next load_rom, as in ALE) -------------------------------------------------------
SPARROW_ALE_API int sparrow_ale_set_int(Handle* h, const char* key, int value) {
  return guarded(h, [&] { h->ale.setInt(key, value); return 0; });
}
SPARROW_ALE_API int sparrow_ale_set_float(Handle* h, const char* key, float value) {
  return guarded(h, [&] { h->ale.setFloat(key, value); return 0; });
}
SPARROW_ALE_API int sparrow_ale_set_bool(Handle* h, const char* key, int value) {
  return guarded(h, [&] { h->ale.setBool(key, value != 0); return 0; });
}
/// Loads (or reloads) a ROM: resets the system and reseeds ALE from "random_seed".
SPARROW_ALE_API int sparrow_ale_load_rom(Handle* h, const char* path) {
  return guarded(h, [&] {
    if (!ale::ALEInterface::isSupportedROM(path)) { h->error = std::string("not a supported ROM: ") + path; return -1; }
    h->ale.loadROM(path);
    return 0;
  });
}

// ---- acting -------------------------------------------------------------------------------------------------------
/// One emulator frame with an ALE action id (not an index into the action set); the frame's reward in *reward.
SPARROW_ALE_API int sparrow_ale_act(Handle* h, int action, float strength, int* reward) {
  return guarded(h, [&] { *reward = h->ale.act(static_cast<ale::Action>(action), strength); return 0; });
}
SPARROW_ALE_API void sparrow_ale_reset_game(Handle* h) { guarded(h, [&] { h->ale.reset_game(); return 0; }); }
/// 1 when the game ended (with_truncation: or hit max_num_frames_per_episode), else 0.
SPARROW_ALE_API int sparrow_ale_game_over(Handle* h, int with_truncation) { return h->ale.game_over(with_truncation != 0); }
SPARROW_ALE_API int sparrow_ale_game_truncated(Handle* h) { return h->ale.game_truncated(); }
SPARROW_ALE_API int sparrow_ale_lives(Handle* h) { return h->ale.lives(); }
SPARROW_ALE_API int sparrow_ale_frame_number(Handle* h) { return h->ale.getFrameNumber(); }
SPARROW_ALE_API int sparrow_ale_episode_frame_number(Handle* h) { return h->ale.getEpisodeFrameNumber(); }

/// ALE action ids of the game's minimal (or full legal) action set into out[0..<cap]; returns the count.
SPARROW_ALE_API int sparrow_ale_action_set(Handle* h, int legal, int* out, int cap) {
  return guarded(h, [&] {
    ale::ActionVect set = legal ? h->ale.getLegalActionSet() : h->ale.getMinimalActionSet();
    int n = static_cast<int>(set.size());
    for (int i = 0; i < n && i < cap; i++) out[i] = static_cast<int>(set[i]);
    return n;
  });
}

// ---- screen -------------------------------------------------------------------------------------------------------
SPARROW_ALE_API int sparrow_ale_screen_width(Handle* h) { return static_cast<int>(h->ale.getScreen().width()); }
SPARROW_ALE_API int sparrow_ale_screen_height(Handle* h) { return static_cast<int>(h->ale.getScreen().height()); }
/// The screen as ALE's grayscale (height × width bytes, row-major) into out.
SPARROW_ALE_API int sparrow_ale_screen_grayscale(Handle* h, uint8_t* out) {
  return guarded(h, [&] {
    size_t n = h->ale.getScreen().width() * h->ale.getScreen().height();
    h->screen.resize(n);
    h->ale.getScreenGrayscale(h->screen);
    std::memcpy(out, h->screen.data(), n);
    return 0;
  });
}
/// The screen as RGB (height × width × 3 bytes) into out.
SPARROW_ALE_API int sparrow_ale_screen_rgb(Handle* h, uint8_t* out) {
  return guarded(h, [&] {
    size_t n = h->ale.getScreen().width() * h->ale.getScreen().height() * 3;
    h->screen.resize(n);
    h->ale.getScreenRGB(h->screen);
    std::memcpy(out, h->screen.data(), n);
    return 0;
  });
}

// ---- state --------------------------------------------------------------------------------------------------------
/// Serialises the emulator state (with ALE's RNG when include_rng, for sticky actions) and returns its byte count;
/// copy it out with sparrow_ale_copy_state. ALE's ALEState leaves out what sticky actions repeat — the last action
/// and paddle strength of each player (StellaEnvironment's m_player_a_action, …) — so a restored emulator would
/// repeat NOOP where the saved one repeats its last action (a resumed run then diverges at its first sticky frame).
/// The shim appends them after ALE's bytes, with a magic at the very end that restore_state looks for.
SPARROW_ALE_API long sparrow_ale_clone_state(Handle* h, int include_rng) {
  try {
    h->state = h->ale.cloneState(include_rng != 0).serialize();
    StickyActions sticky = StickyActions::of(*h->ale.environment);
    h->state.append(reinterpret_cast<const char*>(&sticky), sizeof sticky);
    h->state.append(kStickyMagic, sizeof kStickyMagic);
    return static_cast<long>(h->state.size());
  } catch (const std::exception& e) {
    h->error = e.what();
  }
  return -1;
}
SPARROW_ALE_API void sparrow_ale_copy_state(Handle* h, uint8_t* out) { std::memcpy(out, h->state.data(), h->state.size()); }
/// Restores a state serialised by sparrow_ale_clone_state, with the sticky-action trailer when it has one (states
/// written before it existed have none: their emulator keeps the last action it had, as before).
SPARROW_ALE_API int sparrow_ale_restore_state(Handle* h, const uint8_t* bytes, long count) {
  return guarded(h, [&] {
    size_t n = static_cast<size_t>(count);
    StickyActions sticky{};
    bool hasSticky = n >= sizeof sticky + sizeof kStickyMagic &&
                     std::memcmp(bytes + n - sizeof kStickyMagic, kStickyMagic, sizeof kStickyMagic) == 0;
    if (hasSticky) {
      n -= sizeof kStickyMagic + sizeof sticky;
      std::memcpy(&sticky, bytes + n, sizeof sticky);
    }
    ale::ALEState state(std::string(reinterpret_cast<const char*>(bytes), n));
    h->ale.restoreState(state);
    if (hasSticky) sticky.restore(*h->ale.environment);
    return 0;
  });
}
