"""The demo: a whole campaign in simulated time against the real product, checked against the
simulators' truth. ``world`` starts every server and process, ``loop`` runs the campaign,
``check`` compares the measures with the truth, ``progress`` draws the live panel."""
