"""Convolution arithmetic (seeds 000, 001, 002, 004): numpy functions and answer variables,
graded against torch and Keras layers built by the grader. Nothing trains, so every mode is
the same except how many random layer configurations each hidden check draws."""

# Calibration (HW_SEED 0..4, reference solution vs. the wrong variants of
# tests/test_hidden_cnn_arithmetic.py):
# - gradient tolerance: central differences of a function that is linear in w, in float64,
#   step 1e-6, on random 3..9 x 3..9 inputs: the reference's worst relative error was
#   4e-10 (5 seeds x 12 shapes); the key's dL/dO = 1 (the gradient of the sum, not the mean)
#   is off by a factor of the output size, at least 4. rtol 1e-6 leaves 2500x margin above
#   the reference and below the bug.
# - random configurations: 30 per check; with 30 draws every wrong variant failed on every
#   seed tried (rounding up failed on 9-17 of 30 conv configurations, forgetting dilation on
#   11-19, ignoring the stride in the receptive field on 14-21 of 30 stacks). ci keeps 12:
#   the variants still failed on every seed (at least 3 of 12).
COMMON = {"hidden_call_timeout_s": 10, "finite_difference_step": 1e-6, "gradient_rtol": 1e-6,
          "gradient_atol": 1e-9}

BUDGET = {
    "full": dict(COMMON, random_configs=30),
    "grade": dict(COMMON, random_configs=30),
    "ci": dict(COMMON, random_configs=12),
}
