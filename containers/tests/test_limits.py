"""The parsers of what users type for CPU and memory limits (pure functions, no services)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_site.units import MAX_CPU, MIN_CPU, MIN_MEMORY_BYTES, format_memory, parse_cpu, parse_memory

MIB = 1024**2
TIB = 1024**4


@pytest.mark.parametrize(
    ("text", "cores"),
    [("0.25", "0.25"), (0.25, "0.25"), ("1", "1"), (2, "2"), (" 0.5 ", "0.5"), ("0.01", "0.01"), ("512", "512")],
)
def test_it_reads_cpu_cores_from_strings_and_numbers(text: object, cores: str) -> None:
    assert parse_cpu(text) == Decimal(cores)


@pytest.mark.parametrize(
    "bad", ["abc", "", "-1", "0", "0.009", "512.001", "0.0001", "nan", "inf", "-inf", None, True, False, "1,5"]
)
def test_it_refuses_what_is_not_a_sensible_number_of_cores(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_cpu(bad)


@given(st.integers(min_value=10, max_value=512_000))
def test_any_whole_number_of_millicores_in_range_reads_back_exactly(millicores: int) -> None:
    cores = Decimal(millicores) / 1000
    assert parse_cpu(str(cores)) == cores
    assert parse_cpu(millicores / 1000) == cores


@given(st.decimals(min_value=MIN_CPU, max_value=MAX_CPU, places=4, allow_nan=False, allow_infinity=False))
def test_a_fourth_decimal_place_is_refused_unless_it_is_zero(value: Decimal) -> None:
    if value == value.quantize(Decimal("0.001")):
        assert parse_cpu(str(value)) == value
    else:
        with pytest.raises(ValueError, match="three decimal"):
            parse_cpu(str(value))


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("128m", 128 * MIB),
        ("128M", 128 * MIB),
        ("1g", 1024 * MIB),
        ("1gb", 1024 * MIB),
        ("1GiB", 1024 * MIB),
        ("1.5g", 1536 * MIB),
        (" 64m ", 64 * MIB),
        ("6m", MIN_MEMORY_BYTES),
        ("6144k", MIN_MEMORY_BYTES),
        (str(MIN_MEMORY_BYTES), MIN_MEMORY_BYTES),
        (MIN_MEMORY_BYTES, MIN_MEMORY_BYTES),
        ("1t", TIB),
    ],
)
def test_it_reads_sizes_in_binary_units(text: object, size: int) -> None:
    assert parse_memory(text) == size


@pytest.mark.parametrize(
    "bad", ["abc", "-1", "0", "999t", "5m", "1.5.2m", "12q", "m", "", "1 0m", None, True, 0, -MIB, TIB + 1]
)
def test_it_refuses_what_is_not_a_size_docker_accepts(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_memory(bad)


def test_it_refuses_memory_below_docker_s_6m_floor_and_says_so() -> None:
    with pytest.raises(ValueError, match="6m"):
        parse_memory("5m")


@given(st.integers(min_value=MIN_MEMORY_BYTES, max_value=TIB))
def test_the_short_form_of_any_allowed_size_reads_back_to_the_same_bytes(size: int) -> None:
    assert parse_memory(format_memory(size)) == size


@given(st.integers(min_value=6, max_value=1024 * 1024))
def test_whole_mebibytes_read_and_print_as_megabytes_or_gigabytes(mebibytes: int) -> None:
    size = parse_memory(f"{mebibytes}m")
    assert size == mebibytes * MIB
    expected = f"{mebibytes // 1024}g" if mebibytes % 1024 == 0 else f"{mebibytes}m"
    assert format_memory(size) == expected


@pytest.mark.parametrize(
    ("size", "text"), [(1024**3, "1g"), (128 * MIB, "128m"), (6 * MIB + 1024, "6145k"), (6 * MIB + 1, "6291457")]
)
def test_it_prints_the_shortest_exact_form(size: int, text: str) -> None:
    assert format_memory(size) == text
