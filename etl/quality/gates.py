"""Run a Great Expectations suite from `expectations/` on a DataFrame, keep line numbers of what failed.

Suites are GX Core 1.x JSON (`name`, `expectations` with `type`, `kwargs`, `meta`, `severity`): severity
`critical` (GX's default) is **blocking**, `warning`/`info` are warnings. Value sets known only at run time
given by the caller are written `{"$PARAMETER": "name"}`; a warehouse referential (the territory codes, the
months ...) is named by `expect_column_values_to_be_in_referential` (`etl.quality.referential`). Both come in
`parameters`. Each unexpected value is reported with the `line_no` of its file line (GX
`unexpected_index_column_names`), so a report can say "line 12, column insee_dep". Validation results are
stored as JSON under `$OBSERVATOIRE_HOME/gx/validations` and Data Docs are rebuilt into
`$OBSERVATOIRE_HOME/datadocs`, readable offline (`etl.quality.datadocs` serves their scripts and styles from the
site). GX is imported only when a gate runs (it costs seconds).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import math
import os
import types
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from etl.config import Home
from etl.quality import datadocs
from etl.sources.registry import suite_path

SAMPLE_SIZE = 20
BLOCKING = "critical"


@dataclass(frozen=True)
class Outcome:
    """One expectation's verdict on one batch."""

    suite: str
    expectation_type: str
    column: str | None
    blocking: bool
    success: bool
    unexpected_count: int | None
    sample: list[dict[str, Any]]  # [{"line_no": 12, "value": "1053.0"}, ...]
    kwargs: dict[str, Any]
    observed: Any = None
    meta: dict[str, Any] = field(default_factory=dict)  # the suite's `meta` of the expectation (rule code, notes)

    def describe(self) -> str:
        """One line a person can act on: what rule, which column, how many rows, where."""
        what = self.expectation_type.removeprefix("expect_").replace("_", " ")
        rule = _rule_text(self.kwargs)
        col = f"column {self.column}: " if self.column else ""
        if self.unexpected_count:
            lines = ", ".join(f"line {s['line_no']} ({s['value']!r})" for s in self.sample[:5] if "line_no" in s)
            more = "" if self.unexpected_count <= 5 else f" and {self.unexpected_count - 5} more"
            return f"{col}{what}{rule} failed on {self.unexpected_count} row(s): {lines}{more}"
        return f"{col}{what}{rule} failed (observed {self.observed!r})"


def _rule_text(kwargs: dict[str, Any]) -> str:
    keys = ("regex", "value_set", "referential", "min_value", "max_value", "column_set", "column_list", "type_")
    parts = []
    for key in keys:
        if key in kwargs:
            value = kwargs[key]
            if isinstance(value, list) and len(value) > 20:  # a short list is what the sender must choose from
                value = f"[{len(value)} allowed values]"
            elif isinstance(value, list) and key == "value_set":
                value = ", ".join(map(str, value))
            parts.append(f"{key}={value}")
    return f" ({', '.join(parts)})" if parts else ""


@dataclass
class GateResult:
    suite: str
    gate: str
    outcomes: list[Outcome] = field(default_factory=list)
    validated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def blocking_failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.blocking and not o.success]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.blocking and not o.success]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures


def load_suite(name: str) -> dict[str, Any]:
    with suite_path(name).open(encoding="utf-8") as fh:
        suite = json.load(fh)
    if suite.get("name") != name:
        raise ValueError(f"suite file {suite_path(name)} declares name {suite.get('name')!r}, expected {name!r}")
    return suite


@functools.cache
def _parameter_names(suite_name: str) -> frozenset[str]:
    """The `{"$PARAMETER": name}` names a suite uses."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$PARAMETER"), str):
                found.add(node["$PARAMETER"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(load_suite(suite_name))
    return frozenset(found)


# Modules that GX imports when it starts for expectations no suite of ours uses: scipy.stats for the KL divergence
# and the KS tests (a third of GX's import time), altair for the KL divergence's charts (0.2-0.3 s). Each is
# executed on its first use rather than at `import great_expectations`, paid by every task process.
DEFERRED_GX_IMPORTS = ("scipy.stats", "altair")


class DeferredModule(types.ModuleType):
    """A module entry whose code runs when one of its attributes is first read: the real module then replaces it in
    `sys.modules` (and in its parent package), and the entry forwards to it. Its `__spec__` is the real module's, so
    that `import name` of an entry already in `sys.modules` finds it ready (Python reads `__spec__` there, which
    importlib's `LazyLoader` would take for a first use: a top-level module could not be deferred by it)."""

    def __getattr__(self, attribute: str):
        import importlib
        import sys

        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        # importing a submodule sets it on its parent package too
        return getattr(importlib.import_module(self.__name__), attribute)


def defer_import(name: str) -> None:
    """Put `name` in `sys.modules` as a `DeferredModule`; nothing when it is already imported or not installed."""
    import importlib.util
    import sys

    if name in sys.modules or (spec := importlib.util.find_spec(name)) is None or spec.loader is None:
        return
    module = DeferredModule(name)
    module.__spec__ = spec
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


# The Data Docs index lists the most recent validations, this many: GX reads each result it lists from the store to
# build the index, at every ingest, so an index of the whole history would cost more with every batch ever received
# (1.5 s for the 290 results of one `make demo`). Every page stays on disk, and audit.dq_result keeps every outcome.
DATA_DOCS_INDEX_LIMIT = 200


# An expectation's configuration as GX's validation reads it, kept for the length of one validation: GX builds it
# anew from the expectation's fields (a pydantic `dict()` and a new object) at every read, a hundred reads per
# expectation and validation, a third of a small frame's validation. The expectations a validation reads are its own
# (it makes them from the suite's configurations and does not change them), so each is built once per validation.
_CONFIGURATIONS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("configurations", default=None)


def _build_configurations_once() -> None:
    """Make GX's `Expectation.configuration` read `_CONFIGURATIONS` when a validation set it (once per process)."""
    from great_expectations.expectations.expectation import Expectation

    build = Expectation.configuration.fget
    if getattr(build, "once_per_validation", False):
        return

    def configuration(self):
        built = _CONFIGURATIONS.get()
        if built is None:
            return build(self)
        if (entry := built.get(id(self))) is None:  # the entry keeps the expectation, so its id is not reused
            entry = built[id(self)] = (self, build(self))
        return entry[1]

    configuration.once_per_validation = True
    Expectation.configuration = property(configuration, doc=Expectation.configuration.__doc__)


@functools.cache
def import_gx() -> None:
    """Import GX as the gates use it, once per process: analytics off, its log quiet, `DEFERRED_GX_IMPORTS` deferred,
    our referential expectation registered, configurations built once per validation. Neither files nor threads: a
    worker may call it before it forks its task processes (`etl.orchestration.worker_preload`)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    for name in DEFERRED_GX_IMPORTS:
        defer_import(name)
    import great_expectations  # noqa: F401

    import etl.quality.referential  # noqa: F401 - registers expect_column_values_to_be_in_referential with GX

    _build_configurations_once()


@functools.cache
def gx_context(root: str):
    """One GX context per process: suites in memory, validation results and Data Docs on disk."""
    import_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    config.stores[config.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": f"{root}/gx/validations"},
    }
    config.data_docs_sites = {
        "local": {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": f"{root}/datadocs"},
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "validation_results_limit": DATA_DOCS_INDEX_LIMIT,
            },
        }
    }
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas("frames")
    return context


def _validation_definition(context, suite_name: str):
    import great_expectations as gx

    try:
        return context.validation_definitions.get(suite_name)
    except Exception:  # noqa: BLE001 - GX raises its own not-found types, which vary by version
        pass
    suite_json = load_suite(suite_name)
    suite = context.suites.add(gx.ExpectationSuite(**suite_json))
    asset = context.data_sources.get("frames").add_dataframe_asset(suite_name)
    batch = asset.add_batch_definition_whole_dataframe("whole")
    return context.validation_definitions.add(gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))


def run_suite(
    suite_name: str,
    frame,
    *,
    gate: str,
    parameters: dict[str, Any] | None = None,
    home: Home | None = None,
    index_column: str = "line_no",
    complete: bool = False,
) -> GateResult:
    """Validate `frame` against the suite; never raises on failed expectations (read `.passed`).

    With `complete`, every unexpected row is kept with its index (for small frames whose every faulty cell must be
    named, such as a regional workbook); otherwise the first SAMPLE_SIZE."""
    home = home or Home.from_env()
    context = gx_context(str(home.root))
    definition = _validation_definition(context, suite_name)
    # SUMMARY, not COMPLETE: the first SAMPLE_SIZE unexpected rows with their line numbers are enough for a
    # report, and COMPLETE costs twice as much when a whole column is wrong
    detailed: dict[str, Any] = {
        "result_format": "COMPLETE" if complete else "SUMMARY",
        "partial_unexpected_count": SAMPLE_SIZE,
    }
    if index_column in frame.columns:
        detailed["unexpected_index_column_names"] = [index_column]
    from great_expectations.core.run_identifier import RunIdentifier

    from etl.quality import referential

    parameters = parameters or {}
    named = _parameter_names(suite_name)  # GX gets only the `$PARAMETER`s its suite names: it copies them around
    # both passes store their result under one key (suite, batch, run time): the second replaces the first
    run_id = RunIdentifier(run_time=datetime.now(UTC))
    with warnings.catch_warnings(), referential.lent({k: v for k, v in parameters.items() if k not in named}):
        warnings.simplefilter("ignore", FutureWarning)  # GX's own pandas idioms, not our data

        def validate(result_format: dict[str, Any]):
            configurations = _CONFIGURATIONS.set({})
            try:
                return definition.run(
                    batch_parameters={"dataframe": frame},
                    expectation_parameters={k: v for k, v in parameters.items() if k in named},
                    result_format=result_format,
                    run_id=run_id,
                )
            finally:
                _CONFIGURATIONS.reset(configurations)

        # BASIC first: counts without the unexpected rows' line numbers, half the cost of SUMMARY for a clean
        # frame, which is most frames; the line numbers are asked for only when some row is unexpected
        run = validate({"result_format": "BASIC"})
        if not _clean(run):
            run = validate(detailed)
    result = GateResult(suite=suite_name, gate=gate)
    for item in run.results:
        config = item.expectation_config
        kwargs = {k: v for k, v in dict(config.kwargs).items() if k not in ("batch_id",)}
        res = item.result or {}
        column = kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
        result.outcomes.append(
            Outcome(
                suite=suite_name,
                expectation_type=config.type,
                column=column,
                blocking=str(getattr(config, "severity", BLOCKING) or BLOCKING).lower().endswith(BLOCKING),
                success=bool(item.success),
                unexpected_count=res.get("unexpected_count"),
                sample=_sample(res, index_column, None if complete else SAMPLE_SIZE),
                kwargs=_jsonable(kwargs),
                observed=_jsonable(res.get("observed_value")),
                meta=_jsonable(dict(getattr(config, "meta", None) or {})),
            )
        )
    return result


def _clean(run) -> bool:
    """Every expectation of a validation met, with no unexpected row (a `mostly` may let some pass)."""
    return all(item.success and not (item.result or {}).get("unexpected_count") for item in run.results)


def _sample(res: dict[str, Any], index_column: str, limit: int | None = SAMPLE_SIZE) -> list[dict[str, Any]]:
    if limit is None:
        rows = res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or []
    else:
        rows = (res.get("partial_unexpected_index_list") or res.get("unexpected_index_list") or [])[:limit]
    out = []
    for row in rows:
        if isinstance(row, dict):
            values = {k: v for k, v in row.items() if k != index_column}
            value = next(iter(values.values())) if len(values) == 1 else values
            out.append({"line_no": _line(row.get(index_column)), "value": _jsonable(value)})
    if not out:
        out = [{"value": _jsonable(v)} for v in (res.get("partial_unexpected_list") or [])[:limit]]
    return out


def _line(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON data; a NaN or infinite number (pandas' empty cell) becomes null, which jsonb accepts."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return json.loads(json.dumps(value, default=str))


def validation_keys(home: Home | None = None) -> set:
    """The identifiers of the validation results stored so far (listing the store, not reading it)."""
    home = home or Home.from_env()
    return set(gx_context(str(home.root)).validation_results_store.list_keys())


def build_data_docs(home: Home | None = None, only: set | None = None) -> str:
    """Render the Data Docs pages of the validations `only` (when None, the DATA_DOCS_INDEX_LIMIT most recent stored
    ones: GX applies the index's limit to a whole build too) and the index; returns the index path. Rendering every
    stored result again at each ingest would grow with the archive's history. The pages load their scripts, styles
    and images from the site itself (`datadocs.localised`): no request leaves the machine."""
    home = home or Home.from_env()
    if only is not None and not only:  # nothing new to render (GX would take an empty list for every page)
        return str(home.folder("datadocs") / "index.html")
    context = gx_context(str(home.root))
    with datadocs.localised(home.folder("datadocs")):
        if only is None:
            context.build_data_docs()
        else:
            context.build_data_docs(resource_identifiers=sorted(only, key=str))
    return str(home.folder("datadocs") / "index.html")


def record(engine, results: list[GateResult], batch_id: int, run_id: str | None) -> None:
    """Store the outcomes of a batch's validation in audit.dq_result, replacing those of an earlier validation of
    the same batch (a batch reloaded from the archive is validated again: its latest results are its results)."""
    import sqlalchemy as sa

    rows = [
        {
            "batch_id": batch_id,
            "run_id": run_id,
            "suite": o.suite,
            "gate": result.gate,
            "expectation_type": o.expectation_type,
            "column_name": o.column,
            "blocking": o.blocking,
            "success": o.success,
            "unexpected_count": o.unexpected_count,
            "unexpected_sample": json.dumps(o.sample),
            "kwargs": json.dumps(o.kwargs),
            "validated_at": result.validated_at,
        }
        for result in results
        for o in result.outcomes
    ]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit.dq_result WHERE batch_id = :batch_id"), {"batch_id": batch_id})
        if not rows:
            return
        conn.execute(
            sa.text(
                "INSERT INTO audit.dq_result (batch_id, run_id, suite, gate, expectation_type, column_name, blocking, "
                "success, unexpected_count, unexpected_sample, kwargs, validated_at) VALUES "
                "(:batch_id, :run_id, :suite, :gate, :expectation_type, :column_name, :blocking, :success, "
                ":unexpected_count, CAST(:unexpected_sample AS jsonb), CAST(:kwargs AS jsonb), :validated_at)"
            ),
            rows,
        )
