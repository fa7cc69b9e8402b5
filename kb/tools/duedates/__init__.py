"""The due date calculator: ``arithmetic`` (no Flask), ``services`` (standards as
audited data), ``forms``, ``views``."""
