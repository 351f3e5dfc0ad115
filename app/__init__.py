"""cliffscape's web layer: HTTP in, one call of the public ``core`` API, JSON or HTML out."""
