"""长辛先锋 · Changxin Pioneer: a district governance platform."""

__version__ = "0.1.0"
