"""Clinical LV measurements: myocardial mass (see ``docs/epicardium.md``)."""

from ._mass import MYOCARDIUM_DENSITY, lv_mass

__all__ = ["MYOCARDIUM_DENSITY", "lv_mass"]
