"""Plausible but false lemmas, refuted with counterexamples.

Each of these is a tempting shortcut when writing properties; the counterexample shows why
it does not hold.
"""

from workbench.smt.theorem import Theorem, formula

THEOREMS = [
    Theorem(
        name="start_within_is_transitive",
        statement="the relation 'a.start <= b.start <= a.end' is transitive (false: "
        "a=[0,10], b=[5,20], c=[15,16])",
        premises=[formula("forall s in spans: s.has_end")],
        conclusion=formula(
            "forall a in spans, b in spans, c in spans: "
            "(a.start <= b.start and b.start <= a.end and b.start <= c.start and c.start <= b.end)"
            " -> (a.start <= c.start and c.start <= a.end)"
        ),
        spans=3,
        expect="refuted",
    ),
    Theorem(
        name="skew_does_not_accumulate",
        statement="children start within 50ms before their parent, so every descendant "
        "starts within 50ms before its ancestor (false: skew adds up along a chain)",
        premises=[formula("forall p in spans, c in children(p): c.start >= p.start - 50ms")],
        conclusion=formula(
            "forall a in spans, d in descendants(a): d.start >= a.start - 50ms"),
        spans=3,
        expect="refuted",
    ),
    Theorem(
        name="ends_within_parent_implies_starts_after",
        statement="a child that ends before its parent ends also starts after its parent "
        "starts (false: it may start earlier)",
        premises=[formula("forall p in spans, c in children(p) where p.has_end and c.has_end:"
                          " c.end <= p.end")],
        conclusion=formula("forall p in spans, c in children(p): c.start >= p.start"),
        spans=2,
        expect="refuted",
    ),
    Theorem(
        name="single_root_implies_reachable",
        statement="a trace with exactly one root has every span reachable from it (false: "
        "an orphan subtree below a missing parent)",
        premises=[formula("count(roots) == 1")],
        conclusion=formula("forall s in spans where not s.is_root: "
                           "exists r in ancestors(s): r.is_root"),
        spans=2,
        expect="refuted",
    ),
]
