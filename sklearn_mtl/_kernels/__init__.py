"""Numba-jitted loops: plain ``@njit(cache=True)`` functions over arrays and scalars.

Kernels never see an estimator, a dict or a Python object; estimators validate,
centre and weight the data, call a kernel, then store attributes and warn.
"""
