"""What the pages draw when a selection is large (province scale): the caps pick the right rows."""

import pandas as pd

from governance import coverage, organizations, tickets


def test_worst_communities_keeps_the_lowest_c4_and_every_row_of_them():
    # A: 1 of 4 buildings complete (25%), B: 3 of 3 (100%), C: 0 of 2 (0%), D: no buildings (no C4)
    rows = pd.DataFrame([
        (1, "A", 11, "complete", 1), (1, "A", 11, "no_lead", 3),
        (2, "B", 21, "complete", 3),
        (3, "C", 31, "no_branch", 2),
        (4, "D", 41, None, 0),
    ], columns=["community_id", "community", "compound_id", "status", "buildings"])
    kept = coverage.worst_communities(rows, 3)
    assert sorted(kept["community"].unique()) == ["A", "C", "D"]  # no C4 first, then 0%, 25%
    assert len(kept[kept["community"] == "A"]) == 2
    assert list(coverage.worst_communities(rows, 1)["community"]) == ["D"]


def test_latest_practices_keeps_the_most_recent_in_their_order():
    p = pd.DataFrame({"started_on": pd.to_datetime(["2023-03-01", "2023-01-01", "2023-05-01", "2023-02-01"]),
                      "practice": ["c", "a", "e", "b"]})
    assert list(tickets.latest(p, 2)["practice"]) == ["c", "e"]
    assert list(coverage.latest_practices(p, 2)["practice"]) == ["c", "e"]
    assert list(organizations._latest(p, 2)["practice"]) == ["c", "e"]
    assert list(tickets.latest(p, 10)["practice"]) == ["c", "a", "e", "b"]


def test_s2_chart_rows_are_the_lowest_s2_in_rank_order():
    rank = pd.DataFrame({"community": list("abcde"), "S2": [5.0, 4.0, 3.0, 2.0, None]})  # ranking(): S2 high → low
    assert list(organizations.chart_rows(rank, 2)["community"]) == ["c", "d"]
    assert list(organizations.chart_rows(rank, 4)["community"]) == ["a", "b", "c", "d"]
