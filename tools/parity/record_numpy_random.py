"""Records NumPy's SeedSequence, PCG64 and Generator.integers outputs for Sparrow's NumPy-equivalents
(Sources/SparrowCore/NumPyRandom.swift), and the seeds ale-py's AtariEnv.seed_game derives.

    .build-parity/venv/bin/python tools/parity/record_numpy_random.py > Tests/SparrowCoreTests/Fixtures/numpy-random.json
"""
import json
import sys

import numpy as np
from gymnasium.utils import seeding

SEEDS = [0, 1, 7, 42, 12345, 2**31 - 1, 2**32 - 1, 2**32, 2**32 + 5, 123456789012345, 2**64 - 1]

cases = []
for seed in SEEDS:
    ss = np.random.SeedSequence(seed)
    bg = np.random.PCG64(np.random.SeedSequence(seed))
    raw = [int(x) for x in bg.random_raw(6)]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    # Gymnasium's noop draw, several times from one generator (odd counts exercise the 32-bit half buffer),
    # then other ranges.
    noops = [int(rng.integers(1, 31)) for _ in range(9)]
    others = [[lo, hi, int(rng.integers(lo, hi))] for lo, hi in [(0, 2), (0, 3), (5, 6), (-10, 10), (0, 2**31), (0, 2**32), (1, 1001)]]
    # ale-py's AtariEnv.seed_game: SeedSequence(seed).generate_state(2) → numpy seed, ALE seed (as np.int32).
    np_seed, ale_seed = np.random.SeedSequence(seed).generate_state(n_words=2)
    gym_rng, _ = seeding.np_random(int(np_seed))
    cases.append(dict(
        seed=seed,
        pool=[int(x) for x in ss.pool],
        state32=[int(x) for x in ss.generate_state(5)],
        state64=[int(x) for x in ss.generate_state(4, np.uint64)],
        raw=raw,
        noops=noops,
        others=others,
        ale_np_seed=int(np_seed),
        ale_seed=int(np.int32(ale_seed)),
        ale_noops=[int(gym_rng.integers(1, 31)) for _ in range(5)],
    ))
json.dump(dict(numpy=np.__version__, cases=cases), sys.stdout, indent=1)
print()
