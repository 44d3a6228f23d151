"""The Digit Lab: draw a digit, watch the CNN look at it, ask any number where it came from."""
