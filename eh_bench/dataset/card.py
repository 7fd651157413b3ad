"""The dataset card (``README.md`` with Hub front matter) and the cost-by-source plot of a build.

The front matter is built as data and dumped with PyYAML (so it is always valid YAML); the body comes
from the Jinja2 template ``data_cards/dataset_card.md.j2``. Gating follows the pattern of other
harmful-content datasets on the Hub (e.g. ``allenai/wildguardmix``): automatic approval after the user
fills in the fields and accepts the terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import InputError
from eh_bench.rubric import LEVELS

TEMPLATE_NAME: Final = "dataset_card.md.j2"
PLOT_PATH: Final = "plots/cost_by_source.png"
PRETTY_NAME: Final = "eh-bench: Expected Harm benchmark"
TASK_CATEGORIES: Final = ("text-generation", "text-classification")
TAGS: Final = (
    "safety", "ai-safety", "jailbreak", "red-teaming", "refusal", "harmful-requests", "expected-harm",
    "llm-evaluation", "not-for-all-audiences",
)  # fmt: skip
GATED_HEADING: Final = "Acknowledge the terms to access eh-bench"
GATED_PROMPT: Final = (
    "Access is granted automatically once you complete the fields below and accept the terms. "
    "The dataset contains harmful requests (violence, weapons, CBRN, self-harm, hate speech and more) "
    "collected and labelled to evaluate the safety of language models."
)
GATED_FIELDS: Final[Mapping[str, Any]] = {
    "Name": "text",
    "Affiliation": "text",
    "Country": "country",
    "Intended use": "text",
    "I understand that this dataset contains harmful, toxic or upsetting requests": "checkbox",
    "I will use it only to evaluate or improve the safety of AI systems, not to train models to comply with harmful requests": "checkbox",
    "I will respect the licence of each config (Do-Not-Answer rows: CC BY-NC-SA 4.0, non-commercial)": "checkbox",
}
GATED_BUTTON: Final = "Agree and access the dataset"
#: As published on the paper's project page (arXiv 2602.01600).
PAPER_CITATION: Final = """@article{chen2025expectedharm,
  title = {Expected Harm: Rethinking Safety Evaluation of (Mis)Aligned LLMs},
  author = {Chen, Yen-Shan and Tam, Zhi Rui and Wu, Cheng-Kuang and Chen, Yun-Nung},
  year = {2025},
  url = {https://expectedharm.github.io},
}"""


def template_dir() -> Path:
    """The folder holding the card templates (``data_cards/`` in a checkout, ``eh_bench._data_cards`` installed)."""
    from eh_bench.paths import data_cards_dir

    folder = data_cards_dir()
    if not (folder / TEMPLATE_NAME).is_file():
        raise InputError(f"{folder / TEMPLATE_NAME}: card template not found; reinstall eh-bench")
    return folder


def size_category(n: int) -> str:
    """The Hub ``size_categories`` bucket of ``n`` rows.

    >>> size_category(999), size_category(2500)
    ('n<1K', '1K<n<10K')
    """
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return name
    return "100K<n<1M"


def front_matter(
    configs: Sequence[Mapping[str, Any]],
    features: list[dict[str, str]],
    default_config: str,
) -> str:
    """The card's YAML front matter (without the ``---`` fences).

    Args:
        configs: one mapping per config with ``name``, ``path`` (data file), ``rows``, ``licenses``,
            ``num_bytes`` (Arrow size) and ``download_size`` (Parquet file size).
        features: the ``dataset_info`` feature list (:func:`eh_bench.dataset.schema.features_yaml`).
        default_config: the config loaded when none is named.
    """
    import yaml

    licenses = sorted({str(name) for c in configs for name in c["licenses"]})
    meta: dict[str, Any] = {
        "pretty_name": PRETTY_NAME,
        "language": ["en"],
        "license": licenses[0] if len(licenses) == 1 else licenses,
        "size_categories": [size_category(max((int(c["rows"]) for c in configs), default=0))],
        "task_categories": list(TASK_CATEGORIES),
        "tags": list(TAGS),
        "annotations_creators": ["machine-generated"],
        "language_creators": ["found", "expert-generated"],
        "extra_gated_heading": GATED_HEADING,
        "extra_gated_prompt": GATED_PROMPT,
        "extra_gated_fields": dict(GATED_FIELDS),
        "extra_gated_button_content": GATED_BUTTON,
        "configs": [
            {
                "config_name": c["name"],
                **({"default": True} if c["name"] == default_config else {}),
                "data_files": [{"split": "test", "path": c["path"]}],
            }
            for c in configs
        ],
        "dataset_info": [
            {
                "config_name": c["name"],
                "features": features,
                "splits": [{"name": "test", "num_bytes": int(c["num_bytes"]), "num_examples": int(c["rows"])}],
                "download_size": int(c["download_size"]),
                "dataset_size": int(c["num_bytes"]),
            }
            for c in configs
        ],
    }
    class _NoAliases(yaml.SafeDumper):  # type: ignore[misc]
        def ignore_aliases(self, data: Any) -> bool:  # repeated feature lists stay written out in full
            return True

    text: str = yaml.dump(meta, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=1000)
    return text


def render_card(context: Mapping[str, Any]) -> str:
    """Render ``data_cards/dataset_card.md.j2`` with ``context`` (see :func:`eh_bench.dataset.build_dataset`)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    text: str = env.get_template(TEMPLATE_NAME).render(levels=LEVELS, **context)
    return text


def plot_cost_by_source(by_source: Mapping[str, Mapping[str, Any]], out: Path) -> Path:
    """Horizontal stacked bars: the share of each cost level per source, with the mean cost marked.

    Args:
        by_source: :func:`eh_bench.dataset.stats.by_source` output.
        out: PNG path to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(by_source)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.6))
    left = [0.0] * len(names)
    colours = plt.get_cmap("RdYlGn_r")
    for level in LEVELS:
        shares = [
            by_source[n]["cost_histogram"][level] / by_source[n]["n"] if by_source[n]["n"] else 0.0 for n in names
        ]
        ax.barh(names, shares, left=left, color=colours((level - 1) / 4), label=f"cost {level}")
        left = [a + b for a, b in zip(left, shares, strict=True)]
    for i, name in enumerate(names):
        mean_cost = by_source[name]["mean_cost"]
        label = "—" if mean_cost is None else f"mean {mean_cost:.2f}"
        ax.text(1.01, i, f"{label} (n={by_source[name]['n']})", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of requests")
    ax.set_title("Execution cost by source")
    ax.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.02 * len(names) / 4), fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, metadata={"Software": None})
    plt.close(fig)
    return out
