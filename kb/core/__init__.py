"""The shared core every feature stands on: errors, permissions, audit, clock, signals,
versioning. It imports no feature package."""
