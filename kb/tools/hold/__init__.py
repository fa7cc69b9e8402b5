"""The hold timer: ``services`` (the check-in interval), ``views``."""
