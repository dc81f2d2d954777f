"""Happens-before is a strict partial order (irreflexive and transitive) -- and where not.

Transitivity holds by construction (hb is reachability). Irreflexivity needs time to run
forwards along the edges: a span's timestamps alone do not guarantee it, because a child may
start before its parent (clock skew) and links point anywhere. Under the containment
assumptions that `stdlib.timing` checks (with zero skew) and without links, hb is a strict
partial order; without them it is refuted, with the cycle printed.
"""

from workbench.smt.theorem import Theorem, formula

CONTAINED = formula(
    "forall p in spans, c in children(p): c.start >= p.start"
    " and (p.has_end and c.has_end -> c.end <= p.end)"
)
ENDED = formula("forall s in spans: s.has_end")

THEOREMS = [
    Theorem(
        name="hb_transitive",
        statement="a hb b and b hb c implies a hb c (any trace, links included)",
        conclusion=formula("forall a in spans, b in spans, c in spans: "
                           "(a hb b and b hb c) -> a hb c"),
        spans=4,
        links=1,
    ),
    Theorem(
        name="hb_irreflexive_contained",
        statement="with children inside their parents (zero skew), every span ended and no "
        "links, no span happens before itself",
        premises=[CONTAINED, ENDED],
        conclusion=formula("forall a in spans: not (a hb a)"),
        spans=5,
    ),
    Theorem(
        name="hb_asymmetric_contained",
        statement="under the same assumptions, a hb b excludes b hb a",
        premises=[CONTAINED, ENDED],
        conclusion=formula("forall a in spans, b in spans: a hb b -> not (b hb a)"),
        spans=5,
    ),
    Theorem(
        name="hb_irreflexive_skewed",
        statement="without the containment assumption (clock skew), hb can have a cycle",
        conclusion=formula("forall a in spans: not (a hb a)"),
        spans=4,
        links=1,
        expect="refuted",
    ),
]
