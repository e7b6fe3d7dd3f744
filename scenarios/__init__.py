"""The domain: scenario catalogue, audit grids, business calendar, planning.

Pure code: no network, no database session, no clock reads (a clock is passed in).
"""
