"""make profile's summaries of py-spy's raw output, and its place in the docs."""

from __future__ import annotations

from pathlib import Path

from mindlinks_dev.bench.profile import BEGIN, END, package_of, summarise, write

SITE = "/v/lib/python3.11/site-packages"
STDLIB = "/usr/lib/python3.11"
ROUTE = f"run ({SITE}/fastapi/routing.py:300)"
RAW = "\n".join(
    [
        f'process 1:"python";thread (0x1);{ROUTE};get_item (/w/libs/kit/src/mindlinks_kit/'
        f"dynamo.py:80);_make_api_call ({SITE}/aiobotocore/client.py:400) 6",
        f'process 1:"python";thread (0x1);{ROUTE};verify ({SITE}/jwt/api_jws.py:10);'
        f"sha ({STDLIB}/hashlib.py:5) 3",
        f'process 1:"python";thread (0x1);select ({STDLIB}/selectors.py:468) 1',
        "not a stack line",
    ]
)


def test_frames_belong_to_the_innermost_package_that_is_not_the_standard_library() -> None:
    site = "run (/v/lib/python3.11/site-packages/fastapi/routing.py:300)"
    assert package_of(site) == "fastapi"
    assert package_of("get (/w/libs/kit/src/mindlinks_kit/dynamo.py:80)") == "mindlinks_kit"
    assert package_of("select (/usr/lib/python3.11/selectors.py:468)") == "stdlib"


def test_a_summary_counts_samples_by_package_and_by_function() -> None:
    summary = summarise(RAW)
    assert summary.samples == 10
    assert summary.packages == [("aiobotocore", 6), ("jwt", 3), ("stdlib", 1)]
    assert summary.functions[0] == ("_make_api_call (aiobotocore)", 6)
    assert ("sha (stdlib)", 3) in summary.functions


def test_the_generated_part_is_replaced_and_the_prose_around_it_kept(tmp_path: Path) -> None:
    doc = tmp_path / "profiles.md"
    doc.write_text(f"# Profiles\n\nWhat changed.\n\n{BEGIN}\nold figures\n{END}\n\nAfterword.\n")
    write(doc, "new figures")
    assert doc.read_text() == (
        f"# Profiles\n\nWhat changed.\n\n{BEGIN}\nnew figures\n{END}\n\nAfterword.\n"
    )
    fresh = tmp_path / "new.md"
    write(fresh, "first")
    assert f"{BEGIN}\nfirst\n{END}" in fresh.read_text()


def test_py_spy_short_paths_are_classified_by_their_top_module() -> None:
    assert package_of("run (fastapi/routing.py:300)") == "fastapi"
    assert package_of("_run_once (asyncio/base_events.py:1922)") == "stdlib"
    assert package_of("sha (hashlib.py:5)") == "stdlib"
    assert package_of("<module> (<frozen runpy>:88)") == "stdlib"
    assert package_of("get (mindlinks_kit/dynamo.py:118)") == "mindlinks_kit"
