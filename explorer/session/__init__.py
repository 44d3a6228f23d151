"""Qt-free session objects for the labs: the state and maths behind each window tab."""
