"""The shared vocabulary: the one palette every figure draws conditions with."""

from __future__ import annotations

from paracrine.vocabulary import (
    ARM_COLOURS,
    ARMS,
    COMBINATION,
    SINGLE_LIGANDS,
    condition_colours,
    condition_label,
)


def test_the_arms_are_built_from_the_ligands():
    assert SINGLE_LIGANDS == ("IL-6", "VEGF")
    assert COMBINATION == "IL-6+VEGF"
    assert set(ARM_COLOURS) == set(ARMS)


def test_condition_colours_give_arms_their_colour_and_others_distinct_ones():
    names = [condition_label(arm, "T47D") for arm in ARMS] + ["gp130 KO", "JAK1 KO", "VEGF"]
    colours = condition_colours(names)
    assert list(colours) == names
    for arm in ARMS:
        assert colours[condition_label(arm, "T47D")] == ARM_COLOURS[arm]
    assert colours["VEGF"] == ARM_COLOURS["VEGF"]
    others = [colours["gp130 KO"], colours["JAK1 KO"]]
    assert len(set(others)) == 2 and not set(others) & set(ARM_COLOURS.values())
