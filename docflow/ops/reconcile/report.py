"""The reconcile report: what the CLI prints, the flow publishes as artifacts, and ``--json`` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from docflow.ops.reconcile.classify import Classification, Finding, Kind
from docflow.ops.reconcile.repair import Action
from docflow.ops.reconcile.snapshot import Snapshot


@dataclass
class ReconcileReport:
    generated_at: str
    parameters: dict
    workers: list[str]
    inspect_error: str | None
    in_flight: int
    ok: int
    counts: dict[str, int]
    stages: list[dict]
    findings: list[dict]
    recovering: list[dict]
    undecodable: list[dict]
    foreign_messages: int
    actions: list[dict]
    timings: dict[str, float]
    worker_queues: dict[str, list[str]] = field(default_factory=dict)
    # Findings counted in ``counts`` but not in ``findings``, by kind: LOST beyond the first N by
    # document id (a wiped Redis can leave a million, and listing them all cost more than the rest
    # of reconcile together).
    unlisted: dict[str, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[dict]:
        return self.findings

    @property
    def healthy(self) -> bool:
        return not any(self.counts.values()) and not self.undecodable

    @property
    def problem_count(self) -> int:
        """Every problem found, listed or not."""
        return sum(self.counts.values())

    def capped_line(self) -> str:
        """What the listing leaves out, e.g. ``LOST: 902000 found, the first 1000 by document id listed``."""
        return "; ".join(
            f"{kind}: {self.counts[kind]} found, the first {self.counts[kind] - n} by document id listed"
            for kind, n in self.unlisted.items()
            if n
        )

    def of_kind(self, kind: Kind | str) -> list[dict]:
        return [f for f in self.findings if f["kind"] == str(kind)]

    def to_dict(self) -> dict:
        """Plain JSON types only (the flow's return value and ``docflow reconcile --json``)."""
        # Shallow: the fields already hold plain dicts/lists (asdict would deep-copy 100,000 findings).
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["healthy"] = self.healthy
        return data

    def table_rows(self, *, limit: int = 1000) -> list[dict]:
        """One row per problem (the first ``limit``), for a Prefect table artifact."""
        rows = [
            {
                "kind": f["kind"],
                "document_id": f["document_id"],
                "document_uuid": f["document_uuid"] or "",
                "project_id": f["project_id"] or "",
                "stage": f["stage"] or "",
                "status": f["status"] or "",
                "task_id": f["task_id"] or "",
                "detail": f["detail"],
            }
            for f in self.findings
        ]
        rows += [
            {
                "kind": "UNDECODABLE",
                "document_id": None,
                "document_uuid": "",
                "project_id": "",
                "stage": "",
                "status": "",
                "task_id": "",
                "detail": f"{u['location']}:{u['key']}: {u['error']}",
            }
            for u in self.undecodable
        ]
        more, capped = len(rows[limit:]), self.capped_line()
        if rows and (more or capped):
            rows = rows[:limit] + [
                {
                    **dict.fromkeys(rows[0], ""),
                    "kind": "…",
                    "document_id": None,
                    "detail": "; ".join(
                        [f"{more} more problem(s): see the flow's return value or --json"] * bool(more)
                        + [f"listing capped: {capped}"] * bool(capped)
                    ),
                }
            ]
        return rows

    def workers_line(self) -> str:
        """Each answering worker with the queues it consumes, e.g. ``ocr-node@h (ocr)``."""
        return ", ".join(
            f"{name} ({', '.join(self.worker_queues[name])})" if self.worker_queues.get(name) else name
            for name in self.workers
        )

    def markdown(self, *, max_listed: int = 200) -> str:
        """Summary, per-stage table, the first ``max_listed`` problems, recoveries and actions."""
        lines = [f"# Reconcile report — {self.generated_at}", ""]
        verdict = "all OK" if self.healthy else f"{self.problem_count} problem(s)"
        scope = self.parameters.get("project_id") or "all projects"
        lines += [
            f"**{verdict}** · {self.in_flight} in-flight documents ({self.ok} OK) · scope: {scope} · "
            f"workers: {self.workers_line() or 'none answered'}"
            + (f" ({self.inspect_error})" if self.inspect_error else ""),
            "",
        ]
        counts = ", ".join(f"{kind}: {n}" for kind, n in self.counts.items() if n) or "none"
        lines += [
            f"Problems by kind: {counts}. Parameters: " + ", ".join(f"`{k}={v}`" for k, v in self.parameters.items()),
            "",
        ]
        lines += [
            "## Per stage: PostgreSQL vs Redis vs workers",
            "",
            "| stage | queue | rows waiting | rows processing | waiting msgs | unacked msgs | held by workers "
            "| queue length | balanced |",
            "|---|---|---:|---:|---:|---:|---:|---:|:---:|",
        ]
        for s in self.stages:
            balanced = (
                "✔"
                if s["rows_waiting"] + s["rows_processing"] == s["messages_waiting"] + s["messages_unacked"]
                else "≠"
            )
            lines.append(
                f"| {s['stage']} | `{s['queue']}` | {s['rows_waiting']} | {s['rows_processing']} | "
                f"{s['messages_waiting']} | {s['messages_unacked']} | {s['held_by_workers']} | "
                f"{s['queue_length']} | {balanced} |"
            )
        lines += ["", "## Problems", ""]
        capped = self.capped_line()
        if capped:
            lines += [f"Listing capped — {capped}; the counts above are exact.", ""]
        if self.healthy:
            lines.append("None.")
        else:
            lines += ["| kind | document | uuid | stage | status | detail |", "|---|---:|---|---|---|---|"]
            for f in self.findings[:max_listed]:
                lines.append(
                    f"| {f['kind']} | {f['document_id'] if f['document_id'] is not None else '—'} | "
                    f"`{f['document_uuid'] or '—'}` | {f['stage'] or '—'} | {f['status'] or '—'} | "
                    f"{_md(f['detail'])} |"
                )
            if len(self.findings) > max_listed:
                lines.append(f"| … | | | | | {len(self.findings) - max_listed} more: see the JSON report |")
            for u in self.undecodable[:max_listed]:
                lines.append(
                    f"| UNDECODABLE | — | — | — | — | {_md(u['location'] + ':' + u['key'] + ': ' + u['error'])} |"
                )
        if self.recovering:
            lines += ["", "## Recovering by redelivery", ""]
            lines += [
                f"- document {f['document_id']} (`{f['document_uuid']}`): {f['detail']}"
                for f in self.recovering[:max_listed]
            ]
        lines += ["", "## Actions", ""]
        if not self.actions:
            lines.append("None (report only)." if not self.parameters.get("repair") else "None needed.")
        for a in self.actions:
            mark = "✔" if a["ok"] else "✘"
            task = f" → task `{a['new_task_id']}`" if a.get("new_task_id") else ""
            lines.append(f"- {mark} {a['action']} ({a['kind']}) document {a['document_id']}: {_md(a['detail'])}{task}")
        lines += [
            "",
            f"_gather {self.timings.get('gather_s', 0):.2f}s (redis {self.timings.get('redis_s', 0):.2f}s, "
            f"inspect {self.timings.get('inspect_s', 0):.2f}s, db {self.timings.get('db_s', 0):.2f}s), "
            f"classify {self.timings.get('classify_s', 0):.2f}s_",
        ]
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def build_report(
    snapshot: Snapshot, classification: Classification, *, parameters: dict, actions: list[Action] | None = None
) -> ReconcileReport:
    return ReconcileReport(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        parameters=parameters,
        workers=snapshot.workers,
        inspect_error=snapshot.inspect_error,
        in_flight=classification.in_flight,
        ok=classification.ok,
        counts=dict(classification.counts),
        stages=[{**asdict(s), "balanced": s.balanced} for s in classification.stages],
        findings=[_finding_dict(f) for f in classification.findings],
        recovering=[_finding_dict(f) for f in classification.recovering],
        undecodable=classification.undecodable,
        foreign_messages=classification.foreign_messages,
        actions=[asdict(a) for a in actions or []],
        timings={k: round(v, 4) for k, v in snapshot.timings.items()},
        worker_queues=snapshot.worker_queues,
        unlisted={kind: n for kind, n in classification.unlisted.items() if n},
    )


_FINDING_FIELDS = tuple(Finding.__dataclass_fields__)


def _finding_dict(found: Finding) -> dict:
    # Not dataclasses.asdict: it deep-copies, and there can be 100,000 findings.
    data = {name: getattr(found, name) for name in _FINDING_FIELDS}
    data["message_task_ids"] = list(found.message_task_ids)
    data["locations"] = list(found.locations)
    return data
