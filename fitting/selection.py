"""Model selection: fit every cross-talk variant to the same data and compare them.

All variants share one core and switch cross-talk mechanisms on (see
:mod:`paracrine.models.variants`), so a variant whose switched-on set contains another's nests
it. The comparison reports nllh, AIC, AICc, BIC, Akaike weights, likelihood-ratio tests for
every nested pair, and whether each variant's best fit reproduces the stronger and sustained
combination response (claim 4 of De Luca 2012).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paracrine.errors import FitError
from paracrine.fitting.blotfit import BlotFit, fit_blots
from paracrine.fitting.problem import BlotProblem, resolve_data
from paracrine.models import VARIANTS, get_variant, list_variants
from paracrine.vocabulary import ARM_COLOURS, COMBINATION, CONTROL

__all__ = ["ModelSelection", "select_models"]


@dataclass
class ModelSelection:
    """Fits of several variants to one data set.

    Attributes
    ----------
    fits
        ``{variant: BlotFit}`` in the order they were fit.
    """

    fits: dict[str, BlotFit]

    def table(self):  # -> DataFrame
        """One row per variant: k, nllh, AIC, AICc, BIC, ΔAIC, Akaike weight, claim 4, hits."""
        import pandas as pd

        rows = []
        for name, fit in self.fits.items():
            r = fit.result
            ok = r.best is not None
            rows.append(
                {
                    "variant": name,
                    "hypothesis": VARIANTS[name].hypothesis if name in VARIANTS else "",
                    "k": r.n_free,
                    "nllh": r.nllh,
                    "aic": r.aic,
                    "aicc": r.aicc,
                    "bic": r.bic,
                    "claim4": fit.reproduces_claim4() if ok else False,
                    "hits": f"{r.n_hits(0.1)}/{len(r.starts)}",
                    "failed": r.n_failed,
                }
            )
        frame = pd.DataFrame(rows)
        finite = np.isfinite(frame["aic"])
        best = frame.loc[finite, "aic"].min() if finite.any() else math.nan
        frame["delta_aic"] = frame["aic"] - best
        weights = np.where(finite, np.exp(-0.5 * frame["delta_aic"].fillna(np.inf)), 0.0)
        frame["akaike_weight"] = weights / weights.sum() if weights.sum() > 0 else np.nan
        return frame.sort_values("aic", kind="stable").reset_index(drop=True)

    def likelihood_ratio_tests(self):  # -> DataFrame
        """Every nested pair (null ⊂ alternative): LR = 2·(nllh_null − nllh_alt), df, p.

        p uses χ²(df). The null values of the extra parameters (0) lie on the boundary of the
        alternative's space, where the asymptotic law is a χ² mixture with *smaller* tail
        probabilities, so these p-values are conservative. ``consistent`` is False when the
        alternative's fit is worse than its nested null's (the multistart missed the
        alternative's optimum: rerun it with more starts).
        """
        import pandas as pd
        from scipy.stats import chi2

        rows = []
        names = list(self.fits)
        for a in names:
            for b in names:
                on_a, on_b = set(get_variant(a).switched_on), set(get_variant(b).switched_on)
                if a == b or not on_a < on_b:
                    continue
                fa, fb = self.fits[a].result, self.fits[b].result
                df = fb.n_free - fa.n_free
                lr = 2.0 * (fa.nllh - fb.nllh)
                rows.append(
                    {
                        "null": a,
                        "alternative": b,
                        "df": df,
                        "lr": lr,
                        "p_value": float(chi2.sf(max(lr, 0.0), df)) if df > 0 else math.nan,
                        "consistent": bool(lr >= -0.1),
                    }
                )
        return pd.DataFrame(
            rows, columns=["null", "alternative", "df", "lr", "p_value", "consistent"]
        )

    def best_variant(self) -> str:
        return str(self.table().iloc[0]["variant"])

    def report(self) -> str:
        table = self.table()
        lrt = self.likelihood_ratio_tests()
        lines = [
            "[[Model selection]]",
            table.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
        if len(lrt):
            lines += [
                "",
                "[[Likelihood-ratio tests (nested pairs; p conservative at the boundary)]]",
            ]
            lines.append(lrt.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        lines += ["", f"Best by AIC: {self.best_variant()}"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table().to_html(index=False, float_format=lambda v: f"{v:.3f}")

    def plot(self, ax=None):  # -> Axes
        """Akaike weights (bars) with ΔAIC annotated; bars coloured by whether the fitted
        combination lies above both single ligands (a check additive responses also pass)."""
        import matplotlib.pyplot as plt

        table = self.table()
        if ax is None:
            _, ax = plt.subplots(figsize=(1.3 * len(table) + 2, 3.5))
        colours = [ARM_COLOURS[COMBINATION if c else CONTROL] for c in table["claim4"]]
        ax.bar(table["variant"], table["akaike_weight"], color=colours)
        for i, row in table.iterrows():
            ax.text(
                i,
                row["akaike_weight"],
                f"ΔAIC {row['delta_aic']:.1f}",
                ha="center",
                va="bottom",
                fontsize="small",
            )
        ax.set_ylabel("Akaike weight")
        ax.set_xlabel("variant")
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color=ARM_COLOURS[COMBINATION], label="fit: IL-6+VEGF above both singles"),
                Patch(color=ARM_COLOURS[CONTROL], label="fit: not above both"),
            ],
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=2,
            fontsize="small",
            frameon=False,
        )
        ax.set_ylim(0, 1.1)
        ax.tick_params(axis="x", rotation=20)
        ax.figure.tight_layout()
        return ax

    def save(self, folder: str | Path) -> Path:
        """Each fit as ``fit_<variant>.json`` plus ``selection.csv`` and ``lrt.csv``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, fit in self.fits.items():
            fit.save(folder / f"fit_{name}.json")
        self.table().to_csv(folder / "selection.csv", index=False)
        self.likelihood_ratio_tests().to_csv(folder / "lrt.csv", index=False)
        return folder


def select_models(
    data: Any = "reference_blots_synthetic",
    variants: Sequence[str] | None = None,
    *,
    n_starts: int = 20,
    seed: int = 0,
    workers: int | None = None,
    scheduler=None,
    progress: bool = True,
    options: Mapping[str, Any] | None = None,
    warm_start: bool = True,
    **problem_options: Any,
) -> ModelSelection:
    """Fit each variant (default: all) to *data* with the same settings and seed.

    ``free=[...]`` (optional, among *problem_options*) is the shared set of free parameters;
    each variant adds its own switched-on cross-talk parameters to it, so nesting holds.

    With *warm_start* (default), variants are fit from the fewest cross-talk mechanisms up,
    and the best point of every variant nested in another (extra cross-talk parameters at
    their lower bound, i.e. next to the nested model) replaces one of that variant's
    Latin-hypercube starts: the larger model then starts where the smaller one ended, so its
    fit is never worse than the nested one's by more than the offset of that lower bound.
    Without it, a multistart that misses the larger model's optimum makes a likelihood-ratio
    test meaningless (measured on the reference data, 16 starts each: ``full`` ended 0.06
    above ``saturable_feedback``, which it nests). The number of starts per variant is
    unchanged.

    Returns
    -------
    ModelSelection
    """
    names = list_variants() if variants is None else list(variants)
    if not names:
        raise FitError("variants: expected at least one variant name, received none")
    for name in names:
        get_variant(name)
    base_free = problem_options.pop("free", None)
    data = resolve_data(data)  # read and validated once for all variants
    fits: dict[str, BlotFit] = {}
    # nested models first, so that their optima can seed the models that contain them
    for name in sorted(names, key=lambda n: len(get_variant(n).switched_on)):
        free = None
        if base_free is not None:
            # the shared free set plus this variant's own cross-talk parameters: keeps nesting
            free = list(dict.fromkeys([*base_free, *get_variant(name).switched_on]))
        problem = BlotProblem(name, data, free=free, **problem_options)
        x0, sources = _nested_starts(problem, name, fits, n_starts) if warm_start else (None, [])
        fits[name] = fit_blots(
            problem,
            n_starts=n_starts,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            options=options,
            x0=x0,
            # start i (i < len(sources)) began at the optimum of sources[i]
            metadata={"warm_starts_from": sources},
        )
    return ModelSelection({name: fits[name] for name in names})


def _nests(inner: str, outer: str) -> bool:
    return set(get_variant(inner).switched_on) < set(get_variant(outer).switched_on)


def _nested_starts(
    problem: BlotProblem, name: str, fits: Mapping[str, BlotFit], n_starts: int
) -> tuple[np.ndarray | None, list[str]]:
    """Best points of the fitted variants nested in *name*, mapped to its parameter vector.

    Parameters the nested fit lacks (this variant's extra cross-talk) start at their lower
    bound; the best-fitting nested variants come first, at most *n_starts* of them.
    """
    nested = [a for a in fits if _nests(a, name) and fits[a].result.best is not None]
    nested = sorted(nested, key=lambda a: fits[a].result.nllh)[:n_starts]
    rows = []
    for a in nested:
        best = dict(zip(fits[a].problem.parameter_names, fits[a].result.x, strict=True))
        rows.append(
            [best.get(p, lo) for p, lo in zip(problem.parameter_names, problem.lower, strict=True)]
        )
    return (np.asarray(rows, dtype=float) if rows else None), nested
