"""Functions in braces: make_divisible against torchvision's _make_divisible, numbers and symbols."""
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcount
from torch_blocks import _make_divisible  # torchvision's, transcribed in the tests


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 40), st.sampled_from([8, 4, 16, 1]))
def test_make_divisible_matches_torchvision_for_numbers_and_for_a_symbol(channels, twentieths, divisor):
    alpha = Fraction(twentieths, 20)
    numeric = symcount.parse(f"input 3x4x4 conv1-{{make_divisible({channels}*{alpha.numerator}/{alpha.denominator}, "
                             f"{divisor})}}")
    symbolic = symcount.parse(f"rational(alpha) input 3x4x4 conv1-{{make_divisible({channels}*alpha, {divisor})}}")
    expected = _make_divisible(channels * alpha, divisor)  # exact: the fraction, not a float
    assert numeric.output_shape[0] == symbolic.subs(alpha=str(alpha)).output_shape[0] == expected


def test_make_divisible_takes_a_least_value_and_refuses_what_it_does_not_know():
    assert symcount.parse("input 3x4x4 conv1-{make_divisible(3, 8, 16)}").output_shape[0] == 16
    with pytest.raises(symcount.NotationError, match="unknown function 'round'"):
        symcount.parse("input 3x4x4 conv1-{round(3)}")
    with pytest.raises(symcount.NotationError, match="whole numbers of 1 or more"):
        symcount.parse("input 3x4x4 conv1-{make_divisible(30, 0)}")
