"""Simulated auditors: scripted Telegram users driving the real bot, in simulated time.

``simulator`` (SimulatedAuditors) keeps each auditor's queue of ``tasks`` and runs one step of
each due auditor's script (``scripts``: phone, visit, letter posting and reply; ``grid``: the
answers) by talking to the bot through the local Bot API (``talk``). Every step is its own
simulated instant: a press is timed by the bot to the second and the truth holds the same
instant. Grid answers agree with what happened; some are first typed wrong on purpose, and the
bot must refuse them and ask again.
"""
