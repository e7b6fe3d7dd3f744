"""Statistics, exports and rendered reports."""
