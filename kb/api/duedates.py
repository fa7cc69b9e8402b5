"""Due-date API (being built)."""

from __future__ import annotations
