"""The labelled dataset: public sources + shipped labels + the project's own set -> a Hub folder.

- :mod:`~eh_bench.dataset.configs`: the configs (core, harmbench, ..., all), the dataset name and version;
- :mod:`~eh_bench.dataset.core`: the project's own prompt set (``core``, ``core_benign``);
- :mod:`~eh_bench.dataset.labels`: joining label files onto source rows;
- :mod:`~eh_bench.dataset.schema`: the row schema and parquet I/O;
- :mod:`~eh_bench.dataset.build`: building the Hub folder (parquet per config, card, manifest, plot);
- :mod:`~eh_bench.dataset.meta`, :mod:`~eh_bench.dataset.card`, :mod:`~eh_bench.dataset.stats`: the card;
- :mod:`~eh_bench.dataset.manifest`: hashes of every file; :mod:`~eh_bench.dataset.validate`: checks;
- :mod:`~eh_bench.dataset.publish`: upload to the Hub (gated);
- :mod:`~eh_bench.dataset.load`: reading a built folder or Hub id back (``load_config``, fingerprints).
"""
