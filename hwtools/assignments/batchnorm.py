"""Batch norm (seed 000, Q6): pure numpy, the same work in every mode."""

BUDGET = {
    "full": {"hidden_call_timeout_s": 20},
    "grade": {"hidden_call_timeout_s": 20},
    "ci": {"hidden_call_timeout_s": 10},
}
