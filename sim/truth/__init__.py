"""What the simulators really did, and how a measurement compares with it.

    simulators --record_*--> Truth (journal.py: memory + JSON lines; records.py: the records)
    Truth.load(path) --> Truth
    compare(truth, Measured) --> Comparison              replies.py: the tracker's mail figures
    compare_sends(truth, [MeasuredSend]) --> SendComparison   sends.py: sent exactly once
    compare_field(truth, [MeasuredField]) --> FieldComparison field.py: the auditors' tasks

Every decision of a town hall is one ``decision`` line: the request (our Message-ID, the
service, the persona, the scenario), the reaction planned (kind, instant, sender, threading,
expected elements included and omitted, mailbox) and the reaction's own Message-ID. A request
that gets nothing is a decision of kind ``none``. Each delivery adds a ``delivery`` line with the
exact INTERNALDATE the mailbox kept (whole seconds) and the UID it got. A dead address refused at
RCPT is a ``refusal`` line: at that stage there is no message yet, so no Message-ID, only the
service address and the instant.

The demo adds two records: ``acceptance``, every message the personas' provider accepted, with
its recipients and the simulated instant of the acceptance (the 250 after DATA), as the
simulator saw it; ``field``, what a simulated auditor really did on a call, a visit or a letter:
every button press that times something (its event kind and instant), the grid answers meant
(after any wrong input the bot had to ask again), how many wrong inputs were typed and how many
the bot asked again. The comparisons are pure: they read a ``Truth`` and measured facts.
"""
