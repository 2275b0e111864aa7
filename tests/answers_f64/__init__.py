"""A second answer set: every graded function again, in float64 numpy, written apart from solutions/ and the zoo."""
