"""Frozen PCA basis for the trajectory panel."""

import numpy as np

from explorer.analysis.pca import cached_basis, clear_cache, fit_pca


def test_pca_recovers_the_main_direction_and_is_deterministic():
    rng = np.random.default_rng(0)
    d = np.array([3.0, 4.0, 0.0]) / 5
    x = rng.standard_normal((500, 1)) * 5 * d + rng.standard_normal((500, 3)) * 0.1 + 2.0
    b = fit_pca(x, k=2, max_cloud=100)
    assert abs(abs(b.components[0] @ d) - 1) < 1e-3
    assert b.explained[0] > 0.95 and b.cloud.shape == (100, 2)
    np.testing.assert_allclose(b.components @ b.components.T, np.eye(2), atol=1e-5)
    np.testing.assert_allclose(b.transform(b.mean[None]), 0, atol=1e-5)
    again = fit_pca(x[::-1], k=2)
    np.testing.assert_allclose(again.components, b.components, atol=1e-4)


def test_cache_fits_once():
    clear_cache()
    calls = []
    x = np.random.default_rng(1).standard_normal((50, 4))

    def fit():
        calls.append(1)
        return fit_pca(x)

    a = cached_basis("m", fit)
    assert cached_basis("m", fit) is a and len(calls) == 1
    clear_cache()
