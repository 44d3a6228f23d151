"""CNN & RNN Explorer: see, live, what a convolutional and a recurrent network compute."""

__version__ = "0.1.0"
