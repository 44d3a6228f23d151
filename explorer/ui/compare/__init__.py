"""Compare lab: a CNN and an RNN on the same task, the same digit, and their parameter counts."""
