"""Statistics for decisions: paired offline comparisons, online experiments and the decision report.

Every public function is a pure function on arrays. Functions that resample take an explicit
``rng: np.random.Generator``; none touches NumPy's global random state. Formulas and their oracles are
in shared/reference/evaluation-reference.md §3–§4.

Modules:

- ``estimators``: CLT and clustered standard errors of a mean.
- ``paired``: paired difference, paired bootstrap, McNemar exact, sign-flip permutation test.
- ``power``: minimum detectable difference and required sample size for paired comparisons.
- ``multiple``: Holm and Benjamini–Hochberg adjusted p-values.
- ``moments``: per-arm sufficient statistics (mean, proportion, ratio, CUPED-adjusted).
- ``effects``: fixed-horizon Welch tests on absolute or relative effects.
- ``sequential``: always-valid mSPRT confidence intervals and p-values.
- ``table``: the per-user experiment table and its CSV / JSON loader.
- ``guardrails``: latency p95 (bootstrap over users), error rate and cost non-inferiority tests.
- ``experiment``: the online analysis and its ship / don't ship / keep running verdict.
- ``scores``: per-problem score files of offline runs.
- ``compare``: the ``assay compare`` analysis and the quality / latency / cost Pareto frontier.
- ``plots`` and ``report``: matplotlib figures and the Markdown / HTML decision report.
- ``serialize``: result dataclasses to JSON-ready values.
"""
