"""Contour polygons shared by the data-layer tests, ``(x, y)`` pixel points.

A module with its own name: ``from conftest import ...`` would pick whichever
``conftest`` (tests/ or a subfolder's) pytest imported first.
"""

SQUARE_I = [(10, 10), (20, 10), (20, 20), (10, 20)]
SQUARE_O = [(6, 6), (24, 6), (24, 24), (6, 24)]
