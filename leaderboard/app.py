"""The eh-bench leaderboard: a Gradio 6 app over a leaderboard store (local folder or Hub dataset pair).

Run locally:  python -m leaderboard.app --store out/leaderboard/store   (serves on 127.0.0.1:7860)
As a Space:   SPACE_ID is set by the Hub; the store comes from $EH_LEADERBOARD_STORE (hf://datasets/...).
Address:      --host / --port, else Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, else 127.0.0.1
              (0.0.0.0 inside a Space) and 7860.

The app only reads verified records; uploads go through eh_bench's submission path (validate, then
store as PENDING). Every submitted string is shown as plain text: tables use datatype "str"/"number",
messages go to Textboxes, plot labels are escaped.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import Any, cast

import gradio as gr
import pandas as pd

from eh_bench.submission.stores import LocalStore, Record, Store, open_store
from leaderboard import lb_about, lb_charts, lb_data, lb_submit

STORE_ENV = "EH_LEADERBOARD_STORE"
#: Gradio's own variables for the address to bind (honoured as defaults of --host / --port).
HOST_ENV = "GRADIO_SERVER_NAME"
PORT_ENV = "GRADIO_SERVER_PORT"
DEFAULT_PORT = 7860
DEFAULT_STORE = "out/leaderboard/store"
LIMIT_ENV = "EH_SUBMIT_LIMIT"
WINDOW_ENV = "EH_SUBMIT_WINDOW_S"
LOCAL_TTL_S = 2.0
HUB_TTL_S = 300.0
MAX_FILE_SIZE = "1mb"
MAX_COMPARE = 8
#: Rows sent to the browser at most (the best by Expected Harm); search and filters see every entry.
MAX_ROWS_ENV = "EH_LEADERBOARD_MAX_ROWS"
DEFAULT_MAX_ROWS = 1000


def on_space() -> bool:
    """True inside a Hugging Face Space (the Hub sets ``SPACE_ID``)."""
    return bool(os.environ.get("SPACE_ID"))


def max_rows() -> int:
    return int(os.environ.get(MAX_ROWS_ENV, DEFAULT_MAX_ROWS))
QUEUE_HEADERS = ["name", "status", "model", "judge", "likelihood", "submitted by", "submitted", "reason"]
CSS = """
#leaderboard-table { font-size: 0.92rem; }
.eh-note { color: var(--body-text-color-subdued); font-size: 0.9rem; }
"""


class Snapshot:
    """Verified records (sorted best first) and the tables built from them, one per column-group choice."""

    def __init__(self, records: list[Record]) -> None:
        self.records = lb_data.sort_records(records)
        self.ids = [id(r) for r in records]
        self.frames: dict[tuple[str, ...], tuple[pd.DataFrame, list[str]]] = {}


class Board:
    """The store as the page sees it: a snapshot re-read at most every ``ttl`` seconds.

    A stale snapshot keeps being served while a background thread re-reads the store
    (stale-while-revalidate), and each table is built once per snapshot; a request only filters rows,
    so a page costs about the same server time with 50 or 5,000 entries.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ttl = LOCAL_TTL_S if isinstance(store, LocalStore) else HUB_TTL_S
        self._lock = threading.Lock()
        self._snap = Snapshot(store.results())
        self._loaded = time.monotonic()
        self._refreshing = False

    def snapshot(self) -> Snapshot:
        with self._lock:
            if time.monotonic() - self._loaded >= self.ttl and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh, daemon=True).start()
            return self._snap

    def _refresh(self) -> None:
        try:
            fresh = self.store.results()
            changed = [id(r) for r in fresh] != self._snap.ids  # LocalStore reuses unchanged records
            snap = Snapshot(fresh) if changed else None
        finally:
            with self._lock:
                self._refreshing = False
                self._loaded = time.monotonic()
        if snap is not None:
            with self._lock:
                self._snap = snap

    def records(self) -> list[Record]:
        return self.snapshot().records

    def view(self, query: str, judge: str, lk: str, ds: str, method: str, groups: list[str]
             ) -> tuple[pd.DataFrame, list[str], int]:
        """(rows shown, column datatypes, number of verified entries)."""
        snap = self.snapshot()
        key = tuple(groups or ())
        if key not in snap.frames:
            snap.frames[key] = lb_data.table(snap.records, key)
        frame, types = snap.frames[key]
        if (query or "").strip() or any(v not in (lb_data.ALL, None) for v in (judge, lk, ds, method)):
            keep = {id(r) for r in lb_data.filter_records(snap.records, query, judge, lk, ds, method)}
            frame = frame[[id(r) in keep for r in snap.records]]
        return frame, types, len(snap.records)

    def by_name(self, names: list[str] | str | None) -> list[Record]:
        wanted = [names] if isinstance(names, str) else list(names or [])
        index = {r.name: r for r in self.records()}
        return [index[n] for n in wanted if n in index]


def _picker(records: list[Record]) -> list[tuple[str, str]]:
    return [(lb_data.label(r), r.name) for r in records]


def _queue_frame(store: Store) -> pd.DataFrame:
    rows = []
    for r in sorted(store.records(), key=lambda r: r.submitted_time, reverse=True)[:200]:
        e = r.entry
        rows.append([
            r.name, r.status, f"{e['model']['id']} @ {e['model']['revision'][:12]}", e["judge"]["id"],
            e["likelihood"]["spec"], r.submitted_by, r.submitted_time, r.reason or "",
        ])
    return pd.DataFrame(rows, columns=QUEUE_HEADERS)


#: Columns of the attack tab's second table, in order (those an entry's rows have).
ATTACK_DETAIL_COLUMNS = ("config", "variant", "jailbreak", "n", "n_unscored", "n_attack_failed", "usefulness", "guard",
                         "guard_original_pass", "subtask_bypass", "task_bypass", "mean_original_cost",
                         "mean_subtask_cost", "queries_per_success", "calls_per_request")


def attack_baselines(record: Record, records: list[Record]) -> list[dict[str, Any]]:
    """Imported published attacks (e.g. JailbreakBench artifacts) on the same model as ``record``, as attack
    rows: variant ``none`` (the original requests), jailbreak ``METHOD (imported)``, one per dataset config."""
    rows = []
    for other in records:
        e = other.entry
        responses = e.get("responses") or {}
        if e["model"]["id"] != record.entry["model"]["id"] or responses.get("origin") != "imported":
            continue
        asr = (e["metrics"].get("asr") or {}).get("value")
        for config in e["dataset"].get("configs") or ["?"]:
            rows.append({"config": config, "variant": "none", "jailbreak": f"{lb_data.method_of(e)} (imported)",
                         "n": e["metrics"]["n"], "asr": asr})
    return rows


def _attack_tables(record: Record | None, baselines: list[dict[str, Any]] | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = record.entry.get("attacks", []) if record else []
    if not rows:
        return pd.DataFrame(), pd.DataFrame()
    frame = pd.DataFrame(rows)
    both = pd.concat([frame, pd.DataFrame(baselines or [], columns=["config", "variant", "jailbreak", "n", "asr"])])
    matrix = both.pivot_table(index=["config", "variant"], columns="jailbreak", values="asr", aggfunc="first")
    matrix = matrix.round(3).reset_index()
    matrix.columns = [str(c) for c in matrix.columns]
    bypass = frame[[c for c in ATTACK_DETAIL_COLUMNS if c in frame]].round(3)
    return matrix.astype(str), bypass.astype(str)


def build_app(store: Store, limiter: lb_submit.RateLimiter) -> gr.Blocks:
    """The Blocks app over ``store``; the store is read (and every record re-validated) once here, so the
    first visitor does not wait for it."""
    board = Board(store)
    space = on_space()
    limit_rows = max_rows()

    def table_update(query: str, judge: str, lk: str, ds: str, method: str, groups: list[str]) -> tuple[Any, str]:
        frame, types, total = board.view(query, judge, lk, ds, method, groups)
        count = f"Showing {len(frame):,} of {total:,} verified entries."
        if len(frame) > limit_rows:
            count = (f"Showing {limit_rows:,} of {total:,} verified entries: the best {limit_rows:,} of "
                     f"{len(frame):,} matches by Expected Harm; search or filter to narrow them down.")
            frame = frame.head(limit_rows)
        return gr.Dataframe(value=frame, datatype=cast(Any, types)), count

    def load_table(query: str, judge: str, lk: str, ds: str, method: str, groups: list[str]) -> tuple[Any, ...]:
        records = board.records()
        frame, count = table_update(query, judge, lk, ds, method, groups)
        return (
            frame, count,
            gr.Dropdown(choices=lb_data.choices(records, lb_data.judge_of)),
            gr.Dropdown(choices=lb_data.choices(records, lb_data.likelihood_of)),
            gr.Dropdown(choices=lb_data.choices(records, lb_data.dataset_of)),
            gr.Dropdown(choices=lb_data.choices(records, lb_data.method_of)),
        )

    def load_views() -> tuple[Any, ...]:
        records = board.records()
        pick = _picker(records)
        first = [r.name for r in lb_data.comparable(records, limit=MAX_COMPARE)]
        attack_pick = _picker([r for r in records if r.entry.get("attacks")])
        probe_pick = _picker([r for r in records if r.entry.get("probes")])
        return (
            gr.Dropdown(choices=lb_data.choices(records, lb_data.method_of), value=lb_data.ALL),
            gr.Dropdown(choices=pick, value=first),
            gr.Dropdown(choices=pick, value=first[0] if first else None),
            lb_charts.calibration_figure(board.by_name(first)),
            lb_charts.heatmap_figure(records[0] if records else None),
            gr.Dropdown(choices=attack_pick, value=attack_pick[0][1] if attack_pick else None, visible=bool(attack_pick)),
            gr.Markdown(visible=not attack_pick),
            gr.Dataframe(visible=bool(attack_pick)),
            gr.Dataframe(visible=bool(attack_pick)),
            gr.Dropdown(choices=probe_pick, value=probe_pick[0][1] if probe_pick else None, visible=bool(probe_pick)),
            gr.Markdown(visible=not probe_pick),
            gr.Plot(visible=bool(probe_pick)),
            _queue_frame(store),
        )

    def compare_method(method: str) -> tuple[Any, Any]:
        chosen = lb_data.comparable(board.records(), method, MAX_COMPARE)
        return gr.Dropdown(value=[r.name for r in chosen]), lb_charts.calibration_figure(chosen)

    def attacks(name: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        found = board.by_name(name)
        return _attack_tables(found[0] if found else None,
                              attack_baselines(found[0], board.records()) if found else None)

    def probes(name: str | None) -> Any:
        found = board.by_name(name)
        return lb_charts.probes_figure(found[0] if found else None)

    def finish(outcome: lb_submit.Outcome) -> tuple[str, pd.DataFrame, pd.DataFrame]:
        issues = pd.DataFrame(outcome.issues, columns=lb_submit.ISSUE_HEADERS)
        return outcome.message, issues, _queue_frame(store)

    def submit_local(data: bytes | None, request: gr.Request) -> tuple[str, pd.DataFrame, pd.DataFrame]:
        host = request.client.host if request is not None and request.client is not None else "unknown"
        return finish(lb_submit.handle_upload(data, f"local:{host}", store, limiter))

    def submit_space(data: bytes | None, profile: gr.OAuthProfile | None) -> tuple[str, pd.DataFrame, pd.DataFrame]:
        user = profile.username if profile is not None else None
        return finish(lb_submit.handle_upload(data, user, store, limiter))

    with gr.Blocks(title=lb_about.TITLE, fill_width=True) as demo:
        gr.Markdown(f"# {lb_about.TITLE}\n{lb_about.INTRO}")
        with gr.Tabs():
            with gr.Tab("Leaderboard", id="leaderboard"):
                with gr.Row():
                    search = gr.Textbox(label="Search", placeholder="model, judge, likelihood or submitter",
                                        elem_id="search", scale=3)
                    judge = gr.Dropdown(label="Judge", choices=[lb_data.ALL], value=lb_data.ALL, scale=1)
                    lk = gr.Dropdown(label="Likelihood model", choices=[lb_data.ALL], value=lb_data.ALL, scale=1)
                    ds = gr.Dropdown(label="Dataset", choices=[lb_data.ALL], value=lb_data.ALL, scale=1)
                    method = gr.Dropdown(label="Attack / method", choices=[lb_data.ALL], value=lb_data.ALL, scale=1,
                                         elem_id="method-filter")
                groups = gr.CheckboxGroup(label="Column groups", choices=list(lb_data.COLUMN_GROUPS),
                                          value=list(lb_data.DEFAULT_GROUPS), elem_id="column-groups")
                count = gr.Markdown(elem_id="entry-count")
                table = gr.Dataframe(interactive=False, elem_id="leaderboard-table", show_search="filter",
                                     pinned_columns=3, max_height=640, buttons=["copy", "fullscreen"])
                gr.Markdown("Sorted by Expected Harm (lower is better); ↑/↓ after a column name says which "
                            "direction is better. Every number sits beside the judge that produced it and its "
                            "sample size (n; per-level cells read `ASR (n=…)`); compare entries judged alike. The "
                            "calibration index is a diagnostic in the *ASR by cost* group, next to the prompts per "
                            "cost level, not a ranking. Blank: undefined (no samples at a level, or no variation), "
                            f"never 0. Ranges: {lb_data.metric_ranges()}. Definitions: About tab.",
                            elem_classes="eh-note")
            with gr.Tab("Calibration", id="calibration"):
                gr.Markdown("ASR by execution-cost level of real models under one attack or method, judged "
                            "alike: a well-calibrated model's line **rises** with cost (it refuses cheap, "
                            "likely-to-be-acted-on requests most); a falling line is inverse risk calibration. "
                            "Each legend entry names the method and judge and the prompts per cost level (n): "
                            "levels with few prompts have wide intervals.")
                cal_method = gr.Dropdown(label="Attack / method (picks the models compared under it)",
                                         choices=[lb_data.ALL], value=lb_data.ALL, elem_id="calibration-method")
                compare = gr.Dropdown(label=f"Entries to compare (up to {MAX_COMPARE})", multiselect=True,
                                      max_choices=MAX_COMPARE, elem_id="calibration-models")
                cal_plot = gr.Plot(elem_id="calibration-plot", show_label=False)
                heat_pick = gr.Dropdown(label="Cost x severity heatmap for", elem_id="heatmap-model")
                heat_plot = gr.Plot(elem_id="heatmap-plot", show_label=False)
            with gr.Tab("Decomposition attacks", id="attacks"):
                attack_empty = gr.Markdown(lb_about.ATTACKS_EMPTY, elem_id="attacks-empty")
                attack_pick = gr.Dropdown(label="Entry", visible=False)
                attack_matrix = gr.Dataframe(label=("ASR: attack variant x jailbreak, per dataset config; "
                                                    "'METHOD (imported)': published attacks on the same model"),
                                             interactive=False, datatype="str", visible=False)
                attack_bypass = gr.Dataframe(label="Usefulness and guard bypass", interactive=False, datatype="str",
                                             visible=False)
            with gr.Tab("Probes", id="probes"):
                probe_empty = gr.Markdown(lb_about.PROBES_EMPTY, elem_id="probes-empty")
                probe_pick = gr.Dropdown(label="Entry", visible=False)
                probe_plot = gr.Plot(show_label=False, visible=False)
            with gr.Tab("Submit", id="submit"):
                gr.Markdown(lb_about.submit_help(space, limiter.limit, int(limiter.window_s)))
                if space:
                    gr.LoginButton()
                upload = gr.File(label="entry.json", file_types=[".json"], type="binary", elem_id="upload")
                send = gr.Button("Validate and submit", variant="primary", elem_id="submit-button")
                status = gr.Textbox(label="Result", interactive=False, elem_id="submit-status", lines=2)
                issues = gr.Dataframe(headers=lb_submit.ISSUE_HEADERS, datatype=["str", "str"], interactive=False,
                                      label="Problems", elem_id="submit-issues", wrap=True)
                queue = gr.Dataframe(label="Submission queue (newest first)", datatype="str", interactive=False,
                                     elem_id="submit-queue", max_height=400)
            with gr.Tab("About", id="about"):
                gr.Markdown(lb_about.about_markdown())

        filters = [search, judge, lk, ds, method, groups]
        # The table first (what a visitor waits for), then the plots and pickers of the other tabs.
        demo.load(load_table, inputs=filters, outputs=[table, count, judge, lk, ds, method]).then(load_views, outputs=[
            cal_method, compare, heat_pick, cal_plot, heat_plot,
            attack_pick, attack_empty, attack_matrix, attack_bypass, probe_pick, probe_empty, probe_plot, queue,
        ])
        for control in (judge, lk, ds, method, groups):
            control.change(table_update, inputs=filters, outputs=[table, count])
        search.submit(table_update, inputs=filters, outputs=[table, count])
        search.change(table_update, inputs=filters, outputs=[table, count], trigger_mode="always_last")
        # .input, not .change: the pickers' values set by load_views come with their figures already drawn.
        compare.input(lambda names: lb_charts.calibration_figure(board.by_name(names)), compare, cal_plot)
        cal_method.input(compare_method, cal_method, [compare, cal_plot])
        heat_pick.input(lambda name: lb_charts.heatmap_figure(next(iter(board.by_name(name)), None)),
                        heat_pick, heat_plot)
        attack_pick.change(attacks, attack_pick, [attack_matrix, attack_bypass])
        probe_pick.change(probes, probe_pick, probe_plot)
        send.click(submit_space if space else submit_local, inputs=[upload], outputs=[status, issues, queue],
                   concurrency_limit=2)
    return cast(gr.Blocks, demo)


def server_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """The address to bind: the flags, else Gradio's ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT``, else
    0.0.0.0 in a Space (127.0.0.1 elsewhere) and ``$PORT`` or 7860."""
    name = host or os.environ.get(HOST_ENV) or ("0.0.0.0" if on_space() else "127.0.0.1")
    if port is not None:
        return name, port
    raw = os.environ.get(PORT_ENV) or os.environ.get("PORT") or str(DEFAULT_PORT)
    try:
        return name, int(raw)
    except ValueError:
        raise SystemExit(f"{PORT_ENV} / PORT is {raw!r}, not a port number; set it to e.g. {DEFAULT_PORT}") from None


def main(argv: list[str] | None = None) -> None:
    """Serve the leaderboard (127.0.0.1 locally; 0.0.0.0 inside a Space)."""
    parser = argparse.ArgumentParser(description="eh-bench leaderboard (Gradio)")
    parser.add_argument("--store", default=os.environ.get(STORE_ENV, DEFAULT_STORE),
                        help=f"local folder or hf://datasets/ORG/NAME (default ${STORE_ENV} or {DEFAULT_STORE})")
    parser.add_argument("--host", default=None,
                        help=f"address to bind (default ${HOST_ENV}, else 0.0.0.0 in a Space, else 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port (default ${PORT_ENV}, else $PORT, else {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    host, port = server_address(args.host, args.port)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    store = open_store(args.store, token=os.environ.get("HF_TOKEN"))
    limiter = lb_submit.RateLimiter(
        limit=int(os.environ.get(LIMIT_ENV, lb_submit.DEFAULT_LIMIT)),
        window_s=float(os.environ.get(WINDOW_ENV, lb_submit.DEFAULT_WINDOW_S)),
    )
    demo = build_app(store, limiter)
    demo.queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, ssr_mode=False, max_file_size=MAX_FILE_SIZE,
        show_error=False, css=CSS, theme=gr.themes.Soft(), footer_links=[],
    )


if __name__ == "__main__":
    main()
