"""Simulated town halls: the services that answer the personas' requests in the demo and tests.

``simulator`` (SimulatedCollectivities: arrivals, decisions, the pump) reads each request
(``incoming``), finds its scenario (``recognise``), lets each service's profile decide
(sim/profiles.py) and has each reaction written (``compose`` picks among ``human``,
``automatic`` and ``bounces``, built on ``writer``, in the ``voices`` of the services and with
the words of ``french``), then delivers it into the persona's mailbox (``mailboxes``).
"""
