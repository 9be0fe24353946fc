"""Convolution arithmetic (seeds 000, 001, 002, 004): numpy functions and answer variables,
graded against torch and Keras layers built by the grader. Nothing trains, so every mode is
the same except how many random layer configurations each hidden check draws."""

# Calibration (measured with the hidden suite's oracles and random generators, numpy seeds
# 0..4, 30 and 12 draws per check):
# - gradient tolerance (rtol 1e-6, atol 1e-9, central differences with step 1e-6 in
#   float64): the reference's worst |error| / allowed was 0.093 over 5 seeds x 30 random
#   shapes, a margin of 10x. The key's dL/dO = 1 (the gradient of the sum, not the mean) is
#   off by a factor of the output size; a 1 x 1 output hides it, but every seed drew
#   outputs of 2 to 40 positions, so the bug failed on every seed.
# - random configurations: the reference matched the torch oracle on every draw; with 30
#   draws rounding up was wrong on 10-20 configurations, forgetting dilation on 13-21,
#   ignoring strides in the receptive field on 15-23 stacks; with ci's 12 draws still on
#   3-8, 5-10 and 5-11: every variant failed on every seed.
COMMON = {"hidden_call_timeout_s": 10, "finite_difference_step": 1e-6, "gradient_rtol": 1e-6,
          "gradient_atol": 1e-9}

BUDGET = {
    "full": dict(COMMON, random_configs=30),
    "grade": dict(COMMON, random_configs=30),
    "ci": dict(COMMON, random_configs=12),
}
