"""One module per assignment: its BUDGET (per HW_MODE) and the helpers its notebook imports."""
