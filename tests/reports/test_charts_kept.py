"""The kept charts of ``reports.charts.km_svg``: the chart it would draw, never another's."""

from __future__ import annotations

from reports import charts
from reports.survival import kaplan_meier


def test_a_kept_chart_is_the_one_drawn_afresh_and_other_data_draw_anew() -> None:
    one = [("Vous", kaplan_meier([0.0, 1.0, 1.0, 2.0, 3.0, 5.0], [8.0, 9.0]))]
    other = [("Vous", kaplan_meier([0.0, 1.0, 1.0, 2.0, 3.0, 6.0], [8.0, 9.0]))]
    labels = {"xlabel": "Jours ouvrés", "ylabel": "Part répondue"}
    first = charts.km_svg(one, **labels)
    assert charts.km_svg(one, **labels) is first  # kept
    assert first == charts._draw_km(one, horizon=None, **labels)  # the same bytes as drawn
    moved = charts.km_svg(other, **labels)
    assert moved != first and moved == charts._draw_km(other, horizon=None, **labels)
    relabelled = charts.km_svg(one, xlabel="Business days", ylabel="Share answered")
    assert relabelled != first and "Business days" in relabelled
    for i in range(charts.KEEP_DRAWN + 1):  # the oldest go first
        charts.km_svg([("Vous", kaplan_meier([float(i + 1)], []))], **labels)
    assert len(charts._drawn) == charts.KEEP_DRAWN
