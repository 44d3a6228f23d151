"""CNN & RNN Explorer: see, live, what a convolutional and a recurrent network compute.

Importing the package changes nothing process-wide; entry points call
``explorer.runtime.configure_process()`` (BLAS threads, allocator).
"""

__version__ = "0.1.0"
