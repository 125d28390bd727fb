"""Your own cell lines and read-outs: a line the model does not know gets the model's defaults
and its own estimates; a read-out maps to a model quantity through models/readout_map.csv,
extended by the user; degenerate problems (k ≥ n, σ → 0) are refused with one message."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from paracrine.data import BlotData, DataWarning, load_blots
from paracrine.errors import FitError
from paracrine.fitting import BlotFit, fit_blots
from paracrine.fitting.problem import BlotProblem
from paracrine.models import Model
from paracrine.models.model import default_readout_map


def _own_blots(tmp_path, readouts=("pERK1/2", "pSTAT3 (Y705)")):
    """MDA-MB-231 blots of two read-outs (the synthetic MCF-7 pERK and pSTAT3 bands, renamed),
    two replicates: 104 bands on 8 blots."""
    ref = load_blots(cell_lines=["MCF-7"]).frame
    rows = ref[ref["readout"].isin(["pERK", "pSTAT3"]) & (ref["replicate"] <= 2)].copy()
    names = dict(zip(["pERK", "pSTAT3"], readouts, strict=True))
    rows["blot"] = rows["blot"].str.replace("MCF-7", "MDA-MB-231")
    rows["cell_line"] = "MDA-MB-231"
    rows["readout"] = rows["readout"].map(names)
    path = tmp_path / "mda_mb_231.csv"
    rows.to_csv(path, index=False)
    return path


def test_unknown_cell_line_and_added_readout_fit_and_the_report_shows_them(tmp_path):
    from paracrine.reports import fit_report_markdown

    data = _own_blots(tmp_path)
    # "pERK1/2" is in the bundled map; "pSTAT3 (Y705)" is the user's own row
    (tmp_path / "my_readouts.csv").write_text(
        "readout,observable,note\npSTAT3 (Y705),pSTAT3,our antibody's name\n", encoding="utf-8"
    )
    fit = fit_blots(
        "independent",
        data,
        n_starts=2,
        seed=1,
        workers=1,
        progress=False,
        free=["R6_tot", "R2_0", "k_erk_dephos"],
        readout_map=tmp_path / "my_readouts.csv",
    )
    problem = fit.problem
    assert problem.cell_lines == ("MDA-MB-231",)
    assert problem.added_cell_lines == ("MDA-MB-231",)
    assert problem.readouts == ("pERK", "pSTAT3")
    assert problem.readout_map == {"pERK1/2": "pERK", "pSTAT3 (Y705)": "pSTAT3"}
    # the cell-line-specific parameters are estimated for the new line, from the defaults
    assert problem.parameter_names == ("R6_tot[MDA-MB-231]", "R2_0[MDA-MB-231]", "k_erk_dephos")
    defaults = Model().table
    assert problem.model.parameter_values("MDA-MB-231")["R6_tot"] == defaults["R6_tot"].default
    assert fit.result.n_failed == 0 and np.isfinite(fit.result.nllh)
    fitted = fit.model.parameter_values("MDA-MB-231")
    assert fitted["R6_tot"] == pytest.approx(10 ** fit.x[0])

    report = fit_report_markdown(fit)
    assert "R6_tot[MDA-MB-231]" in report and "R2_0[MDA-MB-231]" in report
    assert "readout_map = {'pERK1/2': 'pERK', 'pSTAT3 (Y705)': 'pSTAT3'}" in report
    assert (
        "added_cell_lines = {'MDA-MB-231': \"the model's defaults; own R2_0, R6_tot estimated\"}"
        in report
    )
    assert re.search(r"\| MDA-MB-231 \| pERK \|", report)  # combination verdicts per line

    # a saved fit reloads with the same line and read-outs
    fit.save(tmp_path / "fit.json")
    again = BlotFit.load(tmp_path / "fit.json")
    assert again.problem.parameter_names == problem.parameter_names
    assert again.problem.readout_map == problem.readout_map
    assert again.problem.nllh(fit.x) == pytest.approx(problem.nllh(fit.x))


def test_a_readout_maps_to_a_species_when_the_model_has_it(tmp_path):
    assert default_readout_map()["pJAK1"] == "JAK_p"
    data = _own_blots(tmp_path, ("pERK1/2", "pJAK1"))
    # the model has no basal JAK activity: JAK_p is exactly 0 without IL-6, which a log-normal
    # fit cannot match, so it says so instead of fitting 1e-12 against the control bands
    with pytest.raises(
        FitError,
        match=r"read-out 'pJAK1' is the model species 'JAK_p', which the model holds at exactly 0 "
        r"in \d+ of its bands \(control at 0 min, control at 5 min, .*use noise='normal', or "
        r"leave those lanes out",
    ):
        BlotProblem("independent", data, free=["k_erk_dephos"])
    problem = BlotProblem("independent", data, free=["k_erk_dephos"], noise="normal")
    assert problem.readouts == ("pERK", "JAK_p")
    assert problem.metadata["readout_map"] == {"pERK1/2": "pERK", "pJAK1": "JAK_p"}
    # the peak-fraction prior applies to fractions only, not to a concentration
    assert set(problem.fraction_priors) == {"pERK"}
    # the user's data are left as they are
    assert set(pd.read_csv(tmp_path / "mda_mb_231.csv")["readout"]) == {"pERK1/2", "pJAK1"}


def test_a_readout_that_maps_to_nothing_names_what_exists(tmp_path):
    data = _own_blots(tmp_path, ("pERK1/2", "pSTAT1"))
    with pytest.raises(
        FitError,
        match=r"read-out 'pSTAT1' is not something the model observes: it has the observables "
        r"pERK, pAKT, p38, pSTAT3 \(phosphorylated fractions\) and species such as JAK_p, "
        r"STAT3_p, VR_p, VRi_p, MEK_p, ERK_p, AKT_p, MKK_p, p38MAPK_p \(nM\)\. Map it to one of "
        r"them with readout_map=\{'pSTAT1': '<observable>'\}",
    ):
        BlotProblem("independent", data, free=["k_erk_dephos"])
    with pytest.raises(
        FitError,
        match=r"read-out map: 'pSTAT1' -> 'STAT1_p', which is neither an observable of the model "
        r"\(pERK, pAKT, p38, pSTAT3\) nor one of its species \(IL6, ",
    ):
        BlotProblem("independent", data, free=["k_erk_dephos"], readout_map={"pSTAT1": "STAT1_p"})
    # mapped to what it is closest to in the model, it fits
    problem = BlotProblem(
        "independent", data, free=["k_erk_dephos"], readout_map={"pSTAT1": "STAT3_p"}
    )
    assert problem.readouts == ("pERK", "STAT3_p")


def test_known_lines_keep_their_values_beside_a_new_one(tmp_path):
    own = load_blots(_own_blots(tmp_path)).frame
    t47d = load_blots(cell_lines=["T47D"]).frame
    both = BlotData(pd.concat([t47d, own], ignore_index=True), "both.csv")
    problem = BlotProblem(
        "independent",
        both,
        free=["R6_tot", "k_erk_dephos"],
        readout_map={"pSTAT3 (Y705)": "pSTAT3"},
    )
    assert problem.cell_lines == ("T47D", "MDA-MB-231")
    assert problem.parameter_names == ("R6_tot[T47D]", "R6_tot[MDA-MB-231]", "k_erk_dephos")
    assert problem.model.parameter_values("T47D")["R6_tot"] == 2.5  # cell_lines.csv
    assert problem.model.parameter_values("MDA-MB-231")["R6_tot"] == 0.83  # the default


# -- degenerate problems -------------------------------------------------------------------


def test_every_band_on_its_own_blot_is_refused_with_one_message(tmp_path):
    frame = load_blots(cell_lines=["MCF-7"]).frame.copy()
    frame["blot"] = [f"b{i}" for i in range(len(frame))]
    path = tmp_path / "own_blots.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(DataWarning) as caught:  # one warning for the file, not one per blot
        data = load_blots(path)
    assert len(caught) == 1
    assert "312 blots hold a single point each" in str(caught[0].message)
    n_kinetic = len(Model().estimated_parameters()) + 2  # R6_tot and R2_0 per line: 1 line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FitError) as refused:
            BlotProblem("independent", data)
    message = str(refused.value)
    k = n_kinetic - 2 + 312 + 1
    assert message.startswith(
        f"data {path}: 312 bands, but the fit would estimate k = {k} quantities "
        f"({n_kinetic - 2} kinetic parameters, 312 blot scale factors, 1 noise level); "
        "k ≥ n: every band can be fitted exactly, so the fit says nothing; the noise level of "
        "all read-outs has no residual to be estimated from (σ → 0, a perfect and meaningless "
        "fit); 312 of 312 blots hold a single band"
    )


def test_a_noise_level_with_no_residual_is_refused(tmp_path):
    frame = load_blots(cell_lines=["MCF-7"]).frame.copy()
    stat3 = frame["readout"] == "pSTAT3"
    frame.loc[stat3, "blot"] = [f"stat3_{i}" for i in range(int(stat3.sum()))]
    data = BlotData(frame, "split.csv")
    free = ["k_erk_dephos", "k_ras_vr"]
    BlotProblem("independent", data, free=free)  # k < n and one shared σ: fine
    with pytest.raises(
        FitError,
        match=r"data split.csv: 312 bands, but the fit would estimate k = 102 quantities "
        r"\(2 kinetic parameters, 96 blot scale factors, 4 noise levels\); the noise level of "
        r"pSTAT3 has no residual to be estimated from \(σ → 0",
    ):
        BlotProblem("independent", data, free=free, noise_groups="readout")
    # with the noise level given, nothing is estimated from residuals
    BlotProblem("independent", data, free=free, noise_groups="readout", noise_sd=0.2)


def test_a_new_line_can_start_from_values_of_its_own(tmp_path):
    model = (
        Model("independent")
        .with_cell_lines(["MDA-MB-231"])
        .with_parameters({"R6_tot": 2.0}, cell_line="MDA-MB-231")
    )
    problem = BlotProblem(
        model, _own_blots(tmp_path), free=["R6_tot"], readout_map={"pSTAT3 (Y705)": "pSTAT3"}
    )
    assert problem.added_cell_lines == ("MDA-MB-231",)
    assert problem.model.parameter_values("MDA-MB-231")["R6_tot"] == 2.0
    rebuilt = BlotProblem.from_settings(problem.settings())
    assert rebuilt.model.parameter_values("MDA-MB-231")["R6_tot"] == 2.0
    assert rebuilt.parameter_names == ("R6_tot[MDA-MB-231]",)


@pytest.mark.slow
def test_the_command_line_takes_a_readout_map(tmp_path, capsys):
    """`paracrine fit --data own.csv --readout-map map.csv`: the user's name maps through the
    user's table; without the table the same file is refused naming the read-out."""
    from paracrine.cli import main

    data = _own_blots(tmp_path, readouts=("pERK1/2", "STAT3 pY705 (our antibody)"))
    table = tmp_path / "map.csv"
    table.write_text("readout,observable\nSTAT3 pY705 (our antibody),pSTAT3\n", encoding="utf-8")
    out = tmp_path / "fit"
    argv = ["fit", "--variant", "independent", "--data", str(data), "--starts", "1"]
    argv += ["--workers", "1", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "no_map")]) == 2
    assert "STAT3 pY705 (our antibody)" in capsys.readouterr().err
    assert main([*argv, "--readout-map", str(table), "--out", str(out)]) in (0, 1)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "MDA-MB-231" in report and "STAT3 pY705 (our antibody)" in report
    assert main([*argv, "--readout-map", str(tmp_path / "none.csv")]) == 2
    assert "--readout-map" in capsys.readouterr().err


def test_a_readout_with_zero_basal_is_drawn_relative_to_its_maximum(tmp_path):
    """JAK_p is 0 without IL-6: there is no fold over unstimulated, so its panels show the
    read-out relative to its largest simulated level (stated on the panel), not inf."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = _own_blots(tmp_path, ("pERK1/2", "pJAK1"))
    fit = fit_blots(
        "independent",
        data,
        n_starts=1,
        seed=0,
        workers=1,
        progress=False,
        free=["k_erk_dephos"],
        noise="normal",
    )
    fig = fit.plot_fit(time_scale="sqrt")
    try:
        (erk,), (jak,) = fig.axes[0:1], fig.axes[1:2]
        texts = [t.get_text() for t in jak.texts]
        assert texts == ["zero without ligand"]
        assert jak.get_ylabel() == "JAK_p\nrelative to its maximum"
        assert not erk.texts  # pERK has a basal level: fold over it, as before
        curves = [line.get_ydata() for line in jak.get_lines() if len(line.get_ydata()) > 20]
        assert max(float(np.max(c)) for c in curves) == pytest.approx(1.0)
        assert np.all(np.isfinite(jak.get_ylim()))
        fig.savefig(tmp_path / "fit.png")  # draws without a non-finite limit
    finally:
        plt.close(fig)
