"""Gymnasium + ale-py's Atari pipeline as Sparrow's ALE/<Game>-v5 tasks follow it, and a rollout printer in the
format of `sparrow rollout ALE/<Game>-v5` (shared by record_atari.py and check_atari_rollout.py).

The pipeline: gymnasium.make("ALE/<Game>-v5", frameskip=1, ...) → AtariPreprocessing(noop_max=30, frame_skip=4,
screen_size=84, grayscale_obs=True, terminal_on_life_loss=False) → FrameStackObservation(4).
"""
import base64

import ale_py
import gymnasium as gym
import numpy as np

gym.register_envs(ale_py)


def make_env(game, max_episode_frames=108_000, repeat_action_probability=0.25, noop_max=30, frame_stack=4,
             full_action_space=False, terminal_on_life_loss=False):
    env = gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=repeat_action_probability,
                   full_action_space=full_action_space,
                   max_num_frames_per_episode=max_episode_frames if max_episode_frames > 0 else None)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=noop_max, frame_skip=4, screen_size=84, grayscale_obs=True,
                                          terminal_on_life_loss=terminal_on_life_loss)
    return gym.wrappers.FrameStackObservation(env, frame_stack)


def _fields(line, obs, info):
    line["lives"] = int(info["lives"])
    line["frame_number"] = int(info["frame_number"])
    line["episode_frame_number"] = int(info["episode_frame_number"])
    line["obs_b64"] = base64.b64encode(np.ascontiguousarray(obs[-1]).tobytes()).decode()
    return line


def rollout(env, seed, actions, reset_at_end, keep_obs=False):
    """Lines as `sparrow rollout --seed SEED --actions ... [--reset-at-end]` prints them (as dicts). With keep_obs,
    each line also carries "obs": the whole uint8 stack (4×84×84)."""
    lines = []
    obs, info = env.reset(seed=seed)
    line = _fields({"reset": True}, obs, info)
    if keep_obs:
        line["obs"] = np.array(obs, dtype=np.uint8)
    lines.append(line)
    for t, a in enumerate(actions):
        obs, reward, terminated, truncated, info = env.step(int(a))
        line = _fields({"t": t, "action": int(a), "reward": float(reward), "terminated": bool(terminated),
                        "truncated": bool(truncated)}, obs, info)
        if keep_obs:
            line["obs"] = np.array(obs, dtype=np.uint8)
        lines.append(line)
        if reset_at_end and (terminated or truncated):
            obs, info = env.reset()
            line = _fields({"reset": True}, obs, info)
            if keep_obs:
                line["obs"] = np.array(obs, dtype=np.uint8)
            lines.append(line)
    return lines
