"""Print the OpenBLAS kernel numpy runs under this process's OPENBLAS_CORETYPE ("?" if unknown).

OpenBLAS picks its kernels at load time; an OPENBLAS_CORETYPE it does not know, or a build
without dynamic kernels, silently keeps the default, so CI asks the library which it loaded.
"""

import ctypes

import numpy as np  # noqa: F401  (loads numpy's OpenBLAS)


def corename() -> str:
    with open("/proc/self/maps") as maps:
        paths = [line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line]
    for path in dict.fromkeys(paths):
        lib = ctypes.CDLL(path)
        for name in ("openblas_get_corename", "openblas_get_corename64_", "scipy_openblas_get_corename64_",
                     "scipy_openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return "?"


if __name__ == "__main__":
    print(corename())
