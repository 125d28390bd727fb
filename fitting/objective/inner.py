"""ONE analytic solver for the inner parameters of an objective: scale factors, offsets and
noise levels, solved in closed form given the model values (hierarchical optimisation).

The blot problem (one scale per blot, one σ per read-out group) and imported PEtab problems
(``observableParameter1 × f(states) (+ observableParameter2)`` scalings/offsets, noise
parameters that are the whole noise formula) both describe their inner parameters with an
:class:`InnerLayout` and solve them with :class:`InnerSolver`.

Model of row i (``h_i`` the model value with unit scale and zero offset, t its transform)::

    lin:        m_i = s_g(i) · h_i + b_o(i)          d_i = m_i − y_i
    log/log10:  m_i = t(s_g(i) · h_i) = t(h_i) + t(s_g(i))        d_i = m_i − t(y_i)

* scales and offsets given σ: weighted least squares (w_i = 1/σ_i²) — for log rows a weighted
  mean of t(y) − t(h) per group, for lin rows ``s = Σ w y h / Σ w h²`` per group, or, where
  offsets occur, one small dense least-squares problem over all lin scales and offsets;
  values are clipped to their bounds (exact for a single scale per row; for a joint
  scale + offset the clipped one is fixed and the other re-solved once);
* noise levels given the differences: σ² = mean d² (normal) or b = mean |d| (Laplace) per group,
  clipped to their bounds.

Where a scale group spans rows with different σ, the two steps alternate (at most
``max_iterations``), always starting from σ = 1 — never from a previous call's state, so that
the result is a function of the model values alone (a fit does not depend on what ran before).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from paracrine.errors import FitError
from paracrine.fitting.objective.noise import LN10, Transform, TransformMasks, transform

__all__ = ["InnerLayout", "InnerSolution", "InnerSolver"]


def _no_bounds(n: int) -> np.ndarray:
    return np.tile([-np.inf, np.inf], (n, 1))


@dataclass(frozen=True)
class InnerLayout:
    """Which inner parameter each measurement row uses (``-1``: none).

    Attributes
    ----------
    codes
        :class:`~paracrine.fitting.objective.noise.Transform` of each row.
    laplace
        True for rows with Laplace noise.
    scale, offset, sigma
        Group index per row of the scale factor, the offset (lin rows only) and the noise
        level solved here; ``sigma = -1`` means the problem gives the row's σ.
    scale_names, offset_names, sigma_names
        Names of the groups (reports).
    scale_bounds, offset_bounds, sigma_bounds
        ``(n, 2)`` natural-scale bounds per group (default unbounded; σ floored at 1e-300).
    """

    codes: np.ndarray
    laplace: np.ndarray
    scale: np.ndarray
    offset: np.ndarray
    sigma: np.ndarray
    scale_names: tuple[str, ...] = ()
    offset_names: tuple[str, ...] = ()
    sigma_names: tuple[str, ...] = ()
    scale_bounds: np.ndarray = field(default_factory=lambda: _no_bounds(0))
    offset_bounds: np.ndarray = field(default_factory=lambda: _no_bounds(0))
    sigma_bounds: np.ndarray = field(default_factory=lambda: _no_bounds(0))

    @classmethod
    def build(
        cls,
        codes: np.ndarray,
        *,
        laplace: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        offset: np.ndarray | None = None,
        sigma: np.ndarray | None = None,
        scale_names: tuple[str, ...] | list[str] = (),
        offset_names: tuple[str, ...] | list[str] = (),
        sigma_names: tuple[str, ...] | list[str] = (),
        scale_bounds: np.ndarray | None = None,
        offset_bounds: np.ndarray | None = None,
        sigma_bounds: np.ndarray | None = None,
    ) -> InnerLayout:
        """Build and check a layout (missing groups: none; missing bounds: unbounded).

        Raises
        ------
        FitError
            For an offset on a log row, a scale or offset on a Laplace row, a group mixing
            transformations or distributions, or a group index without a name.
        """
        codes = np.asarray(codes, dtype=np.intp)
        n = codes.size
        none = np.full(n, -1, dtype=np.intp)
        layout = cls(
            codes=codes,
            laplace=np.zeros(n, bool) if laplace is None else np.asarray(laplace, dtype=bool),
            scale=none if scale is None else np.asarray(scale, dtype=np.intp),
            offset=none if offset is None else np.asarray(offset, dtype=np.intp),
            sigma=none if sigma is None else np.asarray(sigma, dtype=np.intp),
            scale_names=tuple(scale_names),
            offset_names=tuple(offset_names),
            sigma_names=tuple(sigma_names),
            scale_bounds=_no_bounds(len(scale_names)) if scale_bounds is None else scale_bounds,
            offset_bounds=_no_bounds(len(offset_names)) if offset_bounds is None else offset_bounds,
            sigma_bounds=_no_bounds(len(sigma_names)) if sigma_bounds is None else sigma_bounds,
        )
        layout._check()
        return layout

    def _check(self) -> None:
        for kind, groups, names in (
            ("scale", self.scale, self.scale_names),
            ("offset", self.offset, self.offset_names),
            ("sigma", self.sigma, self.sigma_names),
        ):
            if groups.size and groups.max(initial=-1) >= len(names):
                raise FitError(f"inner layout: {kind} group {groups.max()} has no name")
            for g in range(len(names)):
                rows = groups == g
                if kind != "sigma" and len(set(self.codes[rows].tolist())) > 1:
                    raise FitError(
                        f"inner {kind} {names[g]!r} spans rows with different transformations"
                    )
                if len(set(self.laplace[rows].tolist())) > 1:
                    raise FitError(
                        f"inner {kind} {names[g]!r} spans rows with different distributions"
                    )
        if np.any((self.offset >= 0) & (self.codes != Transform.LIN)):
            raise FitError("inner layout: offsets are solved only on lin-transformed rows")
        if np.any(((self.scale >= 0) | (self.offset >= 0)) & self.laplace):
            raise FitError("inner layout: scales and offsets are not solved under Laplace noise")

    @property
    def n_scales(self) -> int:
        return len(self.scale_names)

    @property
    def n_offsets(self) -> int:
        return len(self.offset_names)

    @property
    def n_sigmas(self) -> int:
        return len(self.sigma_names)

    @property
    def n_parameters(self) -> int:
        return self.n_scales + self.n_offsets + self.n_sigmas


@dataclass(frozen=True)
class InnerSolution:
    """Inner parameters at their optimum (natural scale) and what follows from them.

    Attributes
    ----------
    scales, offsets, sigmas
        One value per group of the layout.
    d
        Differences model − data per row, on the rows' transformed scale.
    sigma_rows
        σ (Laplace: b) per row, inner groups filled in.
    """

    scales: np.ndarray
    offsets: np.ndarray
    sigmas: np.ndarray
    d: np.ndarray
    sigma_rows: np.ndarray

    def as_dict(self, layout: InnerLayout) -> dict[str, dict[str, float]]:
        """``{"scale": {name: value}, "offset": {...}, "sigma": {...}}``."""
        return {
            "scale": dict(zip(layout.scale_names, self.scales.tolist(), strict=True)),
            "offset": dict(zip(layout.offset_names, self.offsets.tolist(), strict=True)),
            "sigma": dict(zip(layout.sigma_names, self.sigmas.tolist(), strict=True)),
        }


class InnerSolver:
    """Closed-form inner parameters for one :class:`InnerLayout` and its data *y*.

    Parameters
    ----------
    layout
        Which rows use which scale, offset and noise level.
    y
        Measurements (natural scale; > 0 on log rows).
    floor
        Model values on log rows are floored here before taking logs.
    max_iterations
        Alternations of scales and noise levels where a scale group spans rows with
        different σ.
    """

    def __init__(
        self, layout: InnerLayout, y: np.ndarray, *, floor: float = 1e-300, max_iterations: int = 5
    ) -> None:
        self.layout = layout
        self.y = np.asarray(y, dtype=float)
        self.floor = floor
        self.max_iterations = max_iterations
        codes = layout.codes
        self.masks = TransformMasks(codes)
        self.ty = transform(self.y, self.masks)
        self._log = codes != Transform.LIN
        # natural log of the transform's base: t(s·h) = t(h) + log(s)/ln(base)
        self._per_ln = np.where(codes == Transform.LOG10, 1.0 / LN10, 1.0)
        self._log_scaled = self._log & (layout.scale >= 0)
        self._lin_scaled = ~self._log & (layout.scale >= 0) & (layout.offset < 0)
        self._joint = ~self._log & (layout.offset >= 0)
        # scale groups that also appear with offsets are solved jointly
        joint_scales = np.unique(layout.scale[self._joint & (layout.scale >= 0)])
        if joint_scales.size:
            in_joint = np.isin(layout.scale, joint_scales) & ~self._log
            self._joint |= in_joint
            self._lin_scaled &= ~in_joint
        self._joint_scales = joint_scales
        self._joint_offsets = np.unique(layout.offset[self._joint & (layout.offset >= 0)])
        self._any_group = bool(layout.n_scales or layout.n_offsets)
        self._inner_rows = np.flatnonzero(layout.sigma >= 0)
        self._inner_groups = layout.sigma[self._inner_rows]
        # a scale group spanning several σ values makes scales depend on σ
        self._coupled = self._scale_sigma_coupling()
        # log-scaled rows, precomputed for the hot loop (every residual evaluation)
        n_s = layout.n_scales
        self._ls_rows = np.flatnonzero(self._log_scaled)
        self._ls_groups = layout.scale[self._ls_rows]
        self._ls_count = np.bincount(self._ls_groups, minlength=n_s).astype(float)
        self._ls_used = self._ls_count > 0
        self._ls_per_ln = np.ones(n_s)
        self._ls_per_ln[self._ls_groups] = self._per_ln[self._ls_rows]
        # within each group σ is one inner noise level: the weights cancel in the mean
        self._ls_unweighted = all(
            len(set(layout.sigma[layout.scale == g].tolist())) == 1
            and layout.sigma[layout.scale == g][0] >= 0
            for g in np.unique(self._ls_groups)
        )
        self._scale_bounded = bool(np.isfinite(layout.scale_bounds).any())
        self._n_sigma = np.bincount(layout.sigma[layout.sigma >= 0], minlength=layout.n_sigmas)

    def _scale_sigma_coupling(self) -> bool:
        layout = self.layout
        for g in range(layout.n_scales):
            groups = set(layout.sigma[layout.scale == g].tolist())
            if len(groups) > 1 and max(groups) >= 0:
                return True
        return bool(layout.n_offsets)

    # -- pieces -----------------------------------------------------------------------------
    def _scales_offsets(
        self, h: np.ndarray, sigma_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scales, offsets, model values on the transformed scale) given σ per row."""
        layout = self.layout
        scales = np.ones(layout.n_scales)
        offsets = np.zeros(layout.n_offsets)
        th = transform(h, self.masks, self.floor)
        if not self._any_group:
            return scales, offsets, th
        model = th.copy()
        w = 1.0 / sigma_rows**2
        n_s = layout.n_scales
        if self._ls_rows.size:
            rows, g, used = self._ls_rows, self._ls_groups, self._ls_used
            diff = self.ty[rows] - th[rows]
            if self._ls_unweighted:
                c = np.bincount(g, diff, n_s) / np.where(used, self._ls_count, 1.0)
            else:
                num = np.bincount(g, w[rows] * diff, n_s)
                den = np.bincount(g, w[rows], n_s)
                c = num / np.where(used, den, 1.0)
            c[~used] = 0.0
            # c is in the rows' transformed units: s = e^c (log) or 10^c (log10)
            per_ln = self._ls_per_ln
            s = np.exp(c / per_ln)
            if self._scale_bounded:
                lo, hi = layout.scale_bounds[:, 0], layout.scale_bounds[:, 1]
                clipped = used & ((s < lo) | (s > hi))
                if clipped.any():
                    s[clipped] = np.clip(s[clipped], lo[clipped], hi[clipped])
                    c[clipped] = np.log(s[clipped]) * per_ln[clipped]
            scales[used] = s[used]
            model[rows] = th[rows] + c[g]
        if self._lin_scaled.any():
            rows = self._lin_scaled
            g = layout.scale[rows]
            num = np.bincount(g, w[rows] * self.y[rows] * h[rows], n_s)
            den = np.bincount(g, w[rows] * h[rows] * h[rows], n_s)
            groups = np.unique(g)
            s = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
            lo, hi = layout.scale_bounds[:, 0], layout.scale_bounds[:, 1]
            scales[groups] = np.clip(s[groups], lo[groups], hi[groups])
            model[rows] = scales[g] * h[rows]
        if self._joint.any():
            self._solve_joint(h, w, scales, offsets, model)
        return scales, offsets, model

    def _solve_joint(
        self,
        h: np.ndarray,
        w: np.ndarray,
        scales: np.ndarray,
        offsets: np.ndarray,
        model: np.ndarray,
    ) -> None:
        layout = self.layout
        rows = np.flatnonzero(self._joint)
        s_ids, b_ids = self._joint_scales, self._joint_offsets
        fixed: dict[tuple[str, int], float] = {}
        for _ in range(2):  # second pass only when a value was clipped
            cols = [("s", int(g)) for g in s_ids] + [("b", int(o)) for o in b_ids]
            free = [c for c in cols if c not in fixed]
            a = np.zeros((rows.size, len(free)))
            target = self.y[rows].copy()
            for k, (kind, g) in enumerate(free):
                mask = (layout.scale[rows] == g) if kind == "s" else (layout.offset[rows] == g)
                a[mask, k] = h[rows][mask] if kind == "s" else 1.0
            for (kind, g), value in fixed.items():
                mask = (layout.scale[rows] == g) if kind == "s" else (layout.offset[rows] == g)
                target[mask] -= value * (h[rows][mask] if kind == "s" else 1.0)
            # rows without a scale of their own are unscaled (s = 1)
            unscaled = layout.scale[rows] < 0
            target[unscaled] -= h[rows][unscaled]
            sw = np.sqrt(w[rows])
            values = (
                np.linalg.lstsq(a * sw[:, None], target * sw, rcond=None)[0]
                if free
                else np.zeros(0)
            )
            clipped = False
            for (kind, g), value in zip(free, values, strict=True):
                bounds = layout.scale_bounds[g] if kind == "s" else layout.offset_bounds[g]
                new = float(np.clip(value, bounds[0], bounds[1]))
                if new != value:
                    fixed[(kind, g)] = new
                    clipped = True
                (scales if kind == "s" else offsets)[g] = new
            if not clipped:
                break
        s_row = np.where(layout.scale[rows] >= 0, scales[np.maximum(layout.scale[rows], 0)], 1.0)
        b_row = np.where(layout.offset[rows] >= 0, offsets[np.maximum(layout.offset[rows], 0)], 0.0)
        model[rows] = s_row * h[rows] + b_row

    def _sigmas(self, d: np.ndarray) -> np.ndarray:
        layout = self.layout
        k = layout.n_sigmas
        rows = layout.sigma >= 0
        g = layout.sigma[rows]
        lap = np.bincount(g, layout.laplace[rows].astype(float), k) > 0
        n = np.maximum(self._n_sigma, 1)
        normal = np.sqrt(np.bincount(g, d[rows] ** 2, k) / n)
        laplace = np.bincount(g, np.abs(d[rows]), k) / n
        values = np.where(lap, laplace, normal)
        lo = np.maximum(layout.sigma_bounds[:, 0], 1e-300)
        return np.minimum(np.maximum(values, lo), layout.sigma_bounds[:, 1])

    # -- the solver ---------------------------------------------------------------------------
    def solve(
        self, h: np.ndarray, sigma_rows: np.ndarray, *, sigmas: np.ndarray | None = None
    ) -> InnerSolution:
        """Inner parameters given model values *h* (unit scale, zero offset).

        Parameters
        ----------
        h
            Model values per row.
        sigma_rows
            σ of each row as the problem gives it (entries of inner σ groups are ignored).
        sigmas
            Fixed values of the inner noise levels (e.g. held during one least-squares
            round); ``None`` solves them too.
        """
        layout = self.layout
        inner_rows, groups = self._inner_rows, self._inner_groups
        sigma_rows = np.array(sigma_rows, dtype=float)
        if sigmas is not None:
            fixed = np.asarray(sigmas, dtype=float)
            sigma_rows[inner_rows] = fixed[groups]
            scales, offsets, model = self._scales_offsets(h, sigma_rows)
            return InnerSolution(scales, offsets, fixed, model - self.ty, sigma_rows)
        current = np.ones(layout.n_sigmas)
        iterations = self.max_iterations if (self._coupled and layout.n_sigmas) else 1
        for _ in range(iterations):
            sigma_rows[inner_rows] = current[groups]
            scales, offsets, model = self._scales_offsets(h, sigma_rows)
            d = model - self.ty
            if not layout.n_sigmas:
                break
            new = self._sigmas(d)
            if np.allclose(new, current, rtol=1e-10):
                break
            current = new
        sigma_rows[inner_rows] = current[groups]
        return InnerSolution(scales, offsets, current, d, sigma_rows)
