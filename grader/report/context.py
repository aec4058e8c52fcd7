"""Result dict -> what a template shows: rows, numbers and feedback (pure: no plotting)."""

from __future__ import annotations

from typing import Any

from grader.report.i18n import CHECK_NAMES, dropped_reason, strings

FEEDBACK_KEYS = {
    "min_test_accuracy": "fb_accuracy",
    "max_gap": "fb_gap",
    "max_params": "fb_params",
    "reuses_base": "fb_reuse",
    "beats_scratch": "fb_beats",
}


def overfit_epoch(history: dict[str, list[float]] | None) -> int | None:
    """The 1-based epoch after which validation loss rose for good while training loss fell.

    None when validation loss ends at (or within 2% of) its minimum, or training loss did
    not keep falling after that epoch.
    """
    if not history or len(history.get("val_loss", [])) < 3:
        return None
    val, train = history["val_loss"], history["loss"]
    best = min(range(len(val)), key=val.__getitem__)
    if best >= len(val) - 1 or val[-1] <= val[best] * 1.02:
        return None
    return best + 1 if train[-1] < train[best] else None


def check_rows(result: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """One row per check: task, requirement and observation in words, points."""
    words = strings(language)
    rows = []
    for check in result["checks"]:
        observed = check["observed"]
        rows.append({
            "task": check["task"],
            "required": CHECK_NAMES[language][check["kind"]].format(t=check["threshold"]),
            "observed": words["not_measured"] if observed is None else _observed(check),
            "points": f"{check['points']:g} / {check['max_points']:g}",
            "passed": check["passed"],
        })  # fmt: skip
    return rows


def _observed(check: dict[str, Any]) -> str:
    value = check["observed"]
    if check["kind"] in ("max_params", "reuses_base"):
        return f"{value:,.0f}"
    return f"{value:+.3f}" if check["kind"] in ("max_gap", "beats_scratch") else f"{value:.3f}"


def task_feedback(result: dict[str, Any], task_id: str, language: str) -> list[str]:
    """Sentences specific to this submission's numbers for one task."""
    words = strings(language)
    task = result["tasks"][task_id]
    if task["status"] != "ok":
        return []
    sentences = []
    epoch = overfit_epoch(task.get("history"))
    if epoch is not None:
        sentences.append(words["fb_overfit"].format(k=epoch))
    for check in result["checks"]:
        if check["task"] != task_id or check["passed"] or check["observed"] is None:
            continue
        observed, threshold = check["observed"], check["threshold"]
        sentences.append(words[FEEDBACK_KEYS[check["kind"]]].format(
            observed=observed, threshold=threshold, short=threshold - observed,
            gap=observed, limit=threshold))  # fmt: skip
    val_acc = (task.get("history") or {}).get("val_accuracy", [])
    if len(val_acc) >= 3 and val_acc[-1] > max(val_acc[:-1]) and epoch is None:
        sentences.append(words["fb_rising"])
    if not sentences:
        sentences.append(words["fb_all_passed"])
    return sentences


def comparison(result: dict[str, Any]) -> dict[str, float] | None:
    """Scratch vs transfer test accuracy, when both were graded."""
    tasks = result["tasks"]
    scratch, transfer = tasks.get("scratch"), tasks.get("transfer")
    if not (scratch and transfer and scratch["metrics"] and transfer["metrics"]):
        return None
    s, t = scratch["metrics"]["test_accuracy"], transfer["metrics"]["test_accuracy"]
    return {"scratch": s, "transfer": t, "diff": t - s}


def student_context(result: dict[str, Any]) -> dict[str, Any]:
    """Everything the student template needs except the plots."""
    language = result["assignment"]["language"]
    words = strings(language)
    tasks = []
    for task_id, task in result["tasks"].items():
        tasks.append({
            "id": task_id, "data": task, "feedback": task_feedback(result, task_id, language),
            "checks": [r for r in check_rows(result, language) if r["task"] == task_id],
            "matrix": _matrix(task),
            "layers_total": words["total_params"].format(
                total=task["params"] or 0, trainable=task["trainable_params"] or 0,
                frozen=task["non_trainable_params"] or 0),
            "training": words["training"].format(
                epochs=task["epochs"], batch=task["batch_size"], optimizer=task["optimizer"],
                loss=task["loss"], seconds=task["seconds"]) if task["status"] == "ok" else "",
        })  # fmt: skip
    compared = comparison(result)
    return {
        "t": words, "r": result, "lang": language, "tasks": tasks,
        "checks": check_rows(result, language),
        "comparison": words["comparison_text"].format(**compared) if compared else None,
        "provenance": _provenance(result["provenance"]),
        "dropped": [
            {"where": words["dropped_line"].format(cell=d["cell"], line=d["line"]),
             "code": d["code"], "reason": dropped_reason(d["reason"], language)}
            for d in result.get("notebook_dropped") or []
        ],
    }  # fmt: skip


def _matrix(task: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Confusion-matrix cells with a shade (share of the row) for the table."""
    matrix = task.get("confusion_matrix") or []
    rows = []
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        rows.append([{"n": n, "shade": round(n / total, 2), "diag": i == j}
                     for j, n in enumerate(row)])  # fmt: skip
    return rows


def _provenance(prov: dict[str, Any]) -> list[tuple[str, str]]:
    keys = ("grader_version", "data_fingerprint", "spec_hash", "submission_hash", "seed",
            "isolation", "memory_cap", "tensorflow", "keras", "python", "cpu", "date")  # fmt: skip
    return [(k, str(prov[k])) for k in keys if k in prov]  # older results lack some


def summary_context(results: list[dict[str, Any]], language: str) -> dict[str, Any]:
    """The class summary: a row per student, pass rates, failed tasks (pure)."""
    ordered = sorted(results, key=lambda r: r["student"])
    task_ids = list(ordered[0]["tasks"]) if ordered else []
    rates: dict[str, list[bool]] = {}
    for result in ordered:
        for check in result["checks"]:
            rates.setdefault(check["id"], []).append(check["passed"])
    failed = [(r["student"], tid, t["error_kind"], t["error"]) for r in ordered
              for tid, t in r["tasks"].items() if t["status"] != "ok"]  # fmt: skip
    return {
        "t": strings(language), "lang": language, "results": ordered, "task_ids": task_ids,
        "pass_rates": [(cid, sum(v) / len(v)) for cid, v in rates.items()],
        "failed": failed,
        "assignment": ordered[0]["assignment"] if ordered else {"title": "", "id": ""},
    }  # fmt: skip
