"""The carrier's HTML pages (declared in ``elearn.carrier``)."""
