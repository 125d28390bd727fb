"""Read-out models: from simulated signalling to the phenotypes the paper measured.

De Luca et al. 2012 measured transwell migration at 24 h and proliferation at 72 h (claims 1–3).
paracrine links them to the simulated phospho-signals with the fewest free numbers the data can
carry (~24 migration points: the integrals of pERK, pAKT and p38 are collinear across those
conditions, so they enter as ONE composite, not three free weights).

**Migration** (24-h transwell, fold over the unstimulated control)::

    I_r   = ∫₀^24h (fold_r(t) − 1) dt                      (fold·h; r = pERK, pAKT, p38, pSTAT3)
    S     = (I_pERK + I_pAKT + I_p38) / 3  +  w · I_pSTAT3   (composite signal, fold·h)
    fold  = 1 + Emax · S / (EC50 + S)  +  γ_line · f_CM

* The kinase part is an equal-weight mean: the three integrals share a unit (fold·h) and the
  data cannot tell their weights apart (a one-component map, as the first latent variable of
  the PLSR signal-to-migration models of Wolf-Yadlin et al. 2006, Mol Syst Biol 2:54, and
  Kumar et al. 2007, PLoS Comput Biol 3:e4, which mapped phospho-signals of HER2-driven
  mammary epithelial cells to migration).
* ``w`` weighs STAT3: IL-6/STAT3 signalling drives breast-cancer cell migration and EMT on its
  own (Sullivan et al. 2009, Oncogene 28:2940; STAT3 is required for IL-6-induced migration),
  and without it the kinase composite cannot explain that 50 ng/mL IL-6 moves cells almost as
  much as VEGF while raising pERK/pAKT/p38 far less (measured: see the README).
* The saturating link (Emax, EC50) keeps the predicted fold bounded.
* ``γ_line · f_CM`` carries the MSC factors other than IL-6 and VEGF in conditioned medium
  (e.g. CXCL12, HGF, TGF-β; not modelled): proportional to the MSC-CM fraction ``f_CM``,
  independent of both antibodies.
* The ``amplifying`` alternative, ``1 + Emax·S/(EC50 + S)·(1 + a·f_CM) + γ·f_CM``, lets those
  factors also amplify the migratory response to IL-6/VEGF signalling (a and γ shared by the
  lines, so that the three MSC-CM-alone means can set them).

**Proliferation** (72 h, fold over control)::

    fold = 1 + β · E_G1,   E_G1 = mean of (fold_pERK − 1) over 6–24 h after stimulation

The sustained-ERK requirement of G1 progression (Murphy et al. 2002, Nat Cell Biol 4:556: ERK must
stay active into late G1 to phosphorylate and stabilise c-Fos) makes late pERK the mitogenic
signal. β is fitted to the proliferation data: the bundled (synthetic) data give no change, so
β is estimated ≈ 0. Why a sustained pERK rise need not raise proliferation here: the cells
grow in full medium with serum and (for MCF-7 and T47D) oestrogen, which already drive ERK-
and PI3K-dependent cycling; a further rise of ERK activity adds nothing when the cell cycle is
limited elsewhere. That is a hypothesis, not a mechanism in the model: the model states that
these signals do not reach the proliferation machinery, and the fitted β with its interval
says how large a coupling the data still allow.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COMPOSITE_KINASES",
    "G1_WINDOW_MIN",
    "MIGRATION_ASSAY_MIN",
    "PROLIFERATION_ASSAY_MIN",
    "READOUT_SIGNALS",
    "composite_signal",
    "migration_fold",
    "proliferation_fold",
]

#: Duration of the transwell migration assay (min): the signals are integrated over it.
MIGRATION_ASSAY_MIN = 1440.0
#: Duration of the proliferation assay (min); its signal, E_G1, only needs the first 24 h.
PROLIFERATION_ASSAY_MIN = 4320.0
#: Window of the mitogenic pERK signal (min after stimulation): late G1.
G1_WINDOW_MIN: tuple[float, float] = (360.0, 1440.0)
#: The kinase read-outs averaged into the composite signal.
COMPOSITE_KINASES: tuple[str, ...] = ("pERK", "pAKT", "p38")
#: Every signal the read-out models use, in the order :func:`composite_signal` expects.
READOUT_SIGNALS: tuple[str, ...] = (*COMPOSITE_KINASES, "pSTAT3")


def composite_signal(integrals_fold_h: np.ndarray, w_stat3: float) -> np.ndarray:
    """The composite signal S (fold·h) from integrals ordered as :data:`READOUT_SIGNALS`
    (last axis): the kinases' mean plus ``w_stat3`` × the pSTAT3 integral."""
    integrals = np.asarray(integrals_fold_h, dtype=float)
    return integrals[..., :3].mean(axis=-1) + w_stat3 * integrals[..., 3]


def migration_fold(
    signal: np.ndarray,
    emax: float,
    ec50: float,
    gamma: np.ndarray,
    msc_cm_fraction: np.ndarray,
    amplification: float = 0.0,
) -> np.ndarray:
    """Fold migration ``1 + Emax·S/(EC50 + S)·(1 + a·f_CM) + γ·f_CM`` (S ≥ 0 and EC50 in
    fold·h; ``a`` = *amplification*, 0 for the additive link)."""
    s = np.maximum(np.asarray(signal, dtype=float), 0.0)
    f = np.asarray(msc_cm_fraction, dtype=float)
    return 1.0 + emax * s / (ec50 + s) * (1.0 + amplification * f) + np.asarray(gamma) * f


def proliferation_fold(g1_signal: np.ndarray, beta: float) -> np.ndarray:
    """Fold proliferation ``1 + β·E_G1`` (E_G1: mean late-G1 pERK excess, fold)."""
    return 1.0 + beta * np.asarray(g1_signal, dtype=float)
