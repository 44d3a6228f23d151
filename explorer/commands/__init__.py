"""Sub-command implementations that need more than a call into a lower layer."""
