"""The skew-tolerant containment lemma: clock skew adds up linearly with depth.

If every child starts at most `skew` before its parent and (for synchronous edges) ends at
most `skew` after it, then a descendant `k` levels below an ancestor starts at most
`k * skew` before it and ends at most `k * skew` after it. So a check of descendants against
ancestors must allow `depth * skew`, not `skew`; `false_lemmas.skew_does_not_accumulate`
shows the counterexample for the single-`skew` version.
"""

from workbench.smt.theorem import Theorem, formula

SKEW = "50ms"
STARTS = formula(f"forall p in spans, c in children(p): c.start >= p.start - {SKEW}")
ENDS = formula(f"forall p in spans, c in children(p) where p.has_end and c.has_end:"
               f" c.end <= p.end + {SKEW}")

THEOREMS = [
    Theorem(
        name="skew_start_accumulates_linearly",
        statement="with child_starts_after_parent (skew 50ms), every descendant d of a "
        "starts no earlier than a.start - (d.depth - a.depth) * 50ms",
        premises=[STARTS],
        conclusion=formula(
            f"forall a in spans, d in descendants(a): "
            f"d.start >= a.start - (d.depth - a.depth) * {SKEW}"),
        spans=5,
    ),
    Theorem(
        name="skew_end_accumulates_linearly",
        statement="with child_ends_within_parent on every edge (skew 50ms), every ended "
        "descendant whose chain is ended ends no later than a.end + (d.depth - a.depth) * 50ms",
        premises=[ENDS, formula("forall s in spans: s.has_end")],
        conclusion=formula(
            f"forall a in spans, d in descendants(a): "
            f"d.end <= a.end + (d.depth - a.depth) * {SKEW}"),
        spans=5,
    ),
    Theorem(
        name="zero_skew_containment_is_transitive",
        statement="with zero skew, containment in the parent implies containment in every "
        "ancestor",
        premises=[formula("forall p in spans, c in children(p): c.start >= p.start"
                          " and (p.has_end and c.has_end -> c.end <= p.end)"),
                  formula("forall s in spans: s.has_end")],
        conclusion=formula("forall a in spans, d in descendants(a): "
                           "d.start >= a.start and d.end <= a.end"),
        spans=5,
    ),
]
