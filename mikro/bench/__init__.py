"""`mikro bench`: the claims of the talk measured against the mechanisms it names."""
