"""Physics: constants, four-vector kinematics and matrix elements (pure numpy)."""
