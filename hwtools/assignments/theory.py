"""Theory questions (seeds 000, 001, 004): numpy functions and answer variables graded against
torch layers, scipy's correlation and torch's FLOP counter built by the grader. Nothing trains,
so every mode is the same except how many random cases each hidden check draws.

Calibration: no tolerance to calibrate (counts are exact; correlations are compared at 1e-9).
Random draws only have to reach the cases a mistake shows on: the mistakes of
tests/test_hidden_theory.py fail on every draw where they change the number (a flipped kernel
unless the kernel is symmetric, MACs without c_in unless c_in is 1, a bias counted when
bias=False on every other draw), so ci's 12 draws catch each of them.
"""
COMMON = {"hidden_call_timeout_s": 10}

BUDGET = {
    "full": dict(COMMON, random_configs=25),
    "grade": dict(COMMON, random_configs=25),
    "ci": dict(COMMON, random_configs=12),
}
