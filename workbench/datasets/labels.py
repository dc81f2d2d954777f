"""Ground-truth labels of generated datasets, and which properties claim to detect what.

A dataset's ``labels.jsonl`` has one JSON record per (annotation, span)::

    {"type": "fault", "class": "orphan", "variant": "lost_span", "injection": 3,
     "role": "primary", "trace_id": "…", "span_id": "…",
     "expect": ["parent_exists", "reachable_from_root"], "detail": "…"}
    {"type": "behaviour", "behaviour": "timeout", "variant": "", "role": "primary",
     "trace_id": "…", "span_id": "…", "detail": "…"}

*Faults* are injected by :mod:`workbench.datasets.faults`; each injection has an id, its
``primary`` spans (those a detector must name) and its ``affected`` spans (also touched by the
fault; naming them is not a false positive), and ``expect``: the properties that must flag it.
*Behaviours* are legitimate things the generator did that some properties flag by design (a
timeout, an error handled by a retry); an evaluation uses them to explain false positives.

:data:`VARIANTS` is the mapping of fault class -> variant -> the stdlib properties that claim to
detect it (the ``expect`` of its injections); :data:`DETECTORS` is its union per class.
:data:`COLLATERAL` lists, per class, properties that the fault may legitimately trip as a side
effect (a cycle makes a child start before its "parent"): such hits are counted apart, neither
as true nor as false positives. :data:`EXPLANATIONS` says why a behaviour trips a property.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: fault class -> variant -> properties expected to flag every injection of that variant.
VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "orphan": {
        "lost_span": ("parent_exists", "reachable_from_root"),
        "lost_root": ("parent_exists", "reachable_from_root", "has_root"),
    },
    "cycle": {"parent_cycle": ("no_parent_cycle", "reachable_from_root")},
    "clock_skew": {
        "late_clock": ("child_starts_after_parent", "child_ends_within_parent"),
        "early_clock": ("child_starts_after_parent", "child_ends_within_parent"),
    },
    "missing_end": {"unended": ("span_ended",)},
    "duplicate_id": {"reused_id": ("unique_span_ids",)},
    "broken_propagation": {
        "new_root": ("single_root",),
        "sampling_decision": ("sampled_flag_inherited", "error_trace_sampled"),
        "consumer_context": ("consumer_parent_is_producer",),
        "detached_work": ("no_span_after_root_end",),
    },
    "wrong_kind": {
        "server_as_internal": ("kind_edge_consistency", "client_children"),
        "client_as_internal": ("kind_edge_consistency",),
        "client_as_server": ("kind_edge_consistency", "server_parent_is_client"),
    },
    "pii_leak": {
        "email_attribute": ("pii_email",),
        "email_in_url": ("pii_email",),
        "card_in_query": ("pii_card_number",),
        "card_attribute": ("pii_card_number",),
        "ssn_in_statement": ("pii_ssn",),
        "credentials_in_url": ("url_credentials_redacted",),
    },
    "semconv_error": {
        "http_server_missing_route": ("http_server_required_attributes",),
        "http_client_missing_url": ("http_client_required_attributes",),
        "rpc_missing_service": ("rpc_required_attributes",),
        "db_missing_system": ("db_required_attributes",),
        "messaging_missing_destination": ("messaging_required_attributes",),
        "http_method_unknown": ("http_method_known",),
        "http_status_invalid": ("http_status_code_range",),
        "http_status_mismatch": ("http_status_maps_to_span_status",),
        "camel_case_key": ("attribute_key_naming",),
        "exception_without_type": ("exception_event_attributes",),
        "status_message_without_error": ("status_message_only_with_error",),
        "empty_name": ("span_name_nonempty",),
        "long_name": ("span_name_length",),
        "service_name_missing": ("service_name_present",),
        "service_name_default": ("service_name_not_default",),
        "service_name_variant": ("service_name_consistent",),
        "resend_without_failure": ("retry_preceded_by_failure",),
    },
    "invalid_id": {
        "short_span_id": ("span_id_valid",),
        "zero_span_id": ("span_id_valid",),
        "long_trace_id": ("trace_id_valid",),
        "short_parent_id": ("parent_id_valid",),
    },
    "timestamp_error": {
        "negative_duration": ("end_after_start",),
        "event_outside_span": ("event_within_span",),
        "unit_error": ("span_duration_plausible",),
    },
    "swallowed_error": {
        "error_not_propagated": ("error_surfaces_to_ancestor",),
        "exception_without_error": ("exception_ends_span_in_error",),
        "failed_call_dropped": ("client_error_retried", "error_surfaces_to_ancestor"),
    },
    # No stdlib property claims retry storms: every attempt of a storm is, on its own, a
    # well-formed retry. experiments/specs/retries.otlspec adds ``retry_budget``.
    "retry_storm": {"burst": ()},
}

#: Properties outside the stdlib that claim fault variants (experiments/specs/*.otlspec).
EXTRA_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "retry_storm": {"burst": ("retry_budget",)},
}

#: fault class -> properties that the fault may trip as a side effect (not claims).
COLLATERAL: dict[str, tuple[str, ...]] = {
    "orphan": ("single_root",),
    "cycle": ("child_starts_after_parent", "child_ends_within_parent", "has_root",
              "no_span_after_root_end", "server_parent_is_client", "client_children",
              "kind_edge_consistency", "consumer_parent_is_producer"),
    "clock_skew": ("no_span_after_root_end", "client_error_retried",
                   "retry_preceded_by_failure"),
    "broken_propagation": ("no_span_after_root_end", "error_surfaces_to_ancestor",
                           "client_error_retried", "kind_edge_consistency",
                           "child_ends_within_parent"),
    "wrong_kind": ("http_server_required_attributes", "http_status_maps_to_span_status",
                   "no_span_after_root_end"),
    "invalid_id": ("parent_exists", "reachable_from_root"),
    "timestamp_error": ("child_ends_within_parent", "child_starts_after_parent",
                        "no_span_after_root_end"),
    "swallowed_error": ("http_status_maps_to_span_status",),
    "retry_storm": (),
    "pii_leak": (),
    "semconv_error": (),
    "missing_end": (),
    "duplicate_id": (),
}

#: (property, behaviour) -> why a legitimate behaviour of the generated system trips it.
EXPLANATIONS: dict[tuple[str, str], str] = {
    ("child_ends_within_parent", "outlives_caller"):
        "the caller timed out and stopped waiting; the callee kept working and ended later "
        "(the property assumes a synchronous caller always waits for its callee)",
    ("child_ends_within_parent", "timeout"):
        "the CLIENT span ended at its timeout while its callee was still running",
    ("no_span_after_root_end", "outlives_caller"):
        "work abandoned by a timed-out caller went on after the request (the root) was over",
    ("error_surfaces_to_ancestor", "retried"):
        "a failed attempt was retried and the retry succeeded: the error was handled",
    ("error_surfaces_to_ancestor", "fallback"):
        "the caller handled the failure with a fallback (the property's documented "
        "'handled' case)",
    ("error_surfaces_to_ancestor", "not_found"):
        "a 404 is an ERROR for the CLIENT span by the HTTP conventions, and the caller "
        "handled it",
    ("error_surfaces_to_ancestor", "timeout"):
        "a timed-out attempt that a later attempt or a fallback made good",
    ("client_error_retried", "fallback"):
        "the caller handled the failure with a fallback instead of a retry (advisory)",
    ("client_error_retried", "not_found"):
        "a 404 is not worth retrying; the caller handled it",
    ("client_error_retried", "timeout"):
        "a timed-out call the caller gave up on and handled",
    ("client_error_retried", "handled_above"):
        "the failure propagated up to a caller that retried or fell back, so the root did not "
        "fail (the property only accepts a retry of this very call or an ERROR root)",
    ("client_error_retried", "async_failure"):
        "a failure in asynchronous work (below a CONSUMER) cannot make the request's root "
        "fail; unlike error_surfaces_to_ancestor, this property does not exempt async work",
}


@dataclass(frozen=True, slots=True)
class Label:
    """One line of ``labels.jsonl``."""

    type: str  # "fault" | "behaviour"
    name: str  # fault class or behaviour
    variant: str
    trace_id: str
    span_id: str
    role: str  # "primary" | "affected"
    injection: int = -1
    expect: tuple[str, ...] = ()
    detail: str = ""

    @staticmethod
    def from_json(rec: dict[str, Any]) -> Label:
        kind = rec.get("type", "fault")
        return Label(kind, rec["class"] if kind == "fault" else rec["behaviour"],
                     rec.get("variant", ""), str(rec["trace_id"]).lower(),
                     str(rec["span_id"]).lower(), rec.get("role", "primary"),
                     int(rec.get("injection", -1)), tuple(rec.get("expect", ())),
                     rec.get("detail", ""))


def detectors(extra: bool = True) -> dict[str, tuple[str, ...]]:
    """Fault class -> the properties that claim to detect it (the union over variants).

    Parameters
    ----------
    extra
        Include the properties of ``experiments/specs`` (:data:`EXTRA_VARIANTS`).
    """
    out: dict[str, tuple[str, ...]] = {}
    for cls, variants in VARIANTS.items():
        names: dict[str, None] = {}
        for props in variants.values():
            names.update(dict.fromkeys(props))
        if extra:
            for props in EXTRA_VARIANTS.get(cls, {}).values():
                names.update(dict.fromkeys(props))
        out[cls] = tuple(names)
    return out


#: Fault class -> claiming stdlib properties.
DETECTORS: dict[str, tuple[str, ...]] = detectors(extra=False)
#: Every fault class, in documentation order.
FAULT_CLASSES: tuple[str, ...] = tuple(VARIANTS)


def expected(cls: str, variant: str) -> tuple[str, ...]:
    """The properties that claim ``cls``/``variant`` (stdlib and experiments specs)."""
    return VARIANTS[cls][variant] + EXTRA_VARIANTS.get(cls, {}).get(variant, ())


def read_labels(path: str | Path) -> list[Label]:
    """Read a ``labels.jsonl`` file (or a dataset directory holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "labels.jsonl"
    out: list[Label] = []
    with p.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(Label.from_json(json.loads(line)))
    return out


def write_labels(labels: Iterable[dict[str, Any]], path: str | Path) -> None:
    """Write label records as JSON lines.

    Parameters
    ----------
    labels
        Records as :meth:`~workbench.datasets.model.Dataset.label_records` makes them.
    path
        The file to write (keys sorted on every line).
    """
    with Path(path).open("w", encoding="utf-8") as fh:
        for rec in labels:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")
