import math

from tillit import fmt

NB = fmt.NBSP


def test_numbers_use_space_thousands_and_decimal_comma():
    assert fmt.num(3660) == f"3{NB}660"
    assert fmt.num(1234567.891, 2) == f"1{NB}234{NB}567,89"
    assert fmt.num(0.5, 1) == "0,5"


def test_percent_the_norwegian_way():
    assert fmt.pct(2779 / 3660, 2) == f"75,93{NB}%"
    assert fmt.pct(0.4328, 2, word=True) == f"43,28{NB}prosent"
    assert fmt.pct(0.27) == f"27{NB}%"


def test_missing_values_show_a_dash():
    assert fmt.num(None) == fmt.MISSING
    assert fmt.pct(float("nan")) == fmt.MISSING
    assert fmt.interval(math.nan, 1) == fmt.MISSING


def test_intervals_and_estimates_use_true_minus_and_en_dash():
    assert fmt.interval(-0.25, 1.5) == "−0,25–1,50"
    assert fmt.estimate_ci(1.234, 1.1, 1.38) == "1,23 (1,10–1,38)"


def test_lists_and_words():
    assert fmt.listing(["a", "b", "c"]) == "a, b og c"
    assert fmt.listing(["a"]) == "a"
    assert fmt.ordinal_word(7) == "sjuende"
    assert fmt.number_word(13) == "tretten"


def test_matplotlib_formatters():
    assert fmt.percent_formatter()(0.3, 0) == f"30{NB}%"
    assert fmt.number_formatter(1)(1500.25, 0) == f"1{NB}500,2"
