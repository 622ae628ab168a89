"""report.html: one self-contained page a policymaker can read; the split into compute and render."""

from __future__ import annotations

import re

import pytest

from bayes_cmo import shift
from bayes_cmo.report import ReportResult, blocks, compute_report, render_html, render_markdown, write_report


@pytest.fixture(scope="module")
def toy_report(toy_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "report"
    return write_report(toy_model.with_draws(40, seed=0), out, context="legal_agreements", targets=["synergy"])


def test_html_is_self_contained_and_opens_with_the_summary(toy_report, toy_model):
    page = (toy_report / "report.html").read_text(encoding="utf-8")
    # figures embedded, nothing fetched from anywhere
    assert page.count('src="data:image/png;base64,') == len(list(toy_report.glob("*.png")))
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "http://" not in page and "https://" not in page and "@import" not in page
    # no machine paths
    assert str(toy_model.theory.path) not in page and "/tmp" not in page and "site-packages" not in page
    body = re.sub(r"<[^>]+>", " ", page)
    first = body.index("In brief")
    assert first < body.index("How much does")  # the summary comes before today's sections
    assert "elicited judgements, not data" in body
    assert "Three findings" in body
    # the headline finding in words, with its interval on the change
    row = shift(toy_model.with_draws(40, seed=0), "legal_agreements", ["synergy"], modes=("observe",))
    present = row[(row["state"] == "present") & (row["target_state"] == "synergy")].iloc[0]
    words = f"by {100 * present['delta']:+.1f} pp (90% interval [{100 * present['delta_ci_low']:+.1f}, {100 * present['delta_ci_high']:+.1f}]"
    assert words in body
    # the paper's labels and friendly headers, not raw column names
    for raw in ("mutual_information_bits", "sd_ratio", "n_both", "delta_ci_low", "legal_agreements"):
        assert raw not in body
    assert "Legal agreements" in body
    # which number every what-if table and figure shows (issue 11 item 5): the mean over the draws
    assert body.count("Numbers: mean of 40 draws of the judgements.") >= 2
    assert "values: mean of 40 draws of the judgements" in body  # the figure captions


def test_markdown_and_html_say_the_same(toy_model):
    result = compute_report(toy_model.with_draws(30, seed=0), context="legal_agreements", targets=["synergy"])
    assert isinstance(result, ReportResult)
    content = blocks(result)
    md, page = render_markdown(content), render_html(content, {})
    for kind, *rest in content:
        if kind in ("h1", "h2", "h3"):
            assert f"# {rest[0]}" in md and rest[0] in page
    # frozen: a renderer cannot change the numbers under another
    with pytest.raises(AttributeError):
        result.context = "mandated"


def test_root_context_rows_once_and_do_explained(toy_model, default_model):
    result = compute_report(toy_model.with_draws(30, seed=0), context="legal_agreements", targets=["synergy"])
    assert result.same_modes  # legal agreements has no causes: observe == do
    md = render_markdown(blocks(result))
    assert "give the same numbers here" in md and "How we know it" not in md
    table = md.split("## How much does")[1].split("## Every")[0]
    assert table.count("| present ") == 1


def test_shipped_priors_context_with_causes(default_model, tmp_path):
    # shared vision has causes in the theory (leadership, conflict): observe and do differ, both rows shown
    result = compute_report(default_model.with_draws(20, seed=0), context="shared_vision", targets=["synergy", "dissolution"],
                            rounds=2, good_direction={"dissolution": "sustained"})
    assert result.priors_name == "the shipped default priors"
    assert not result.same_modes
    md = render_markdown(blocks(result))
    assert "How we know it" in md and "cutting it loose from its causes" in md
    assert "/" not in md.split("\n")[2].replace("bayes_cmo", "")  # the settings line names no folder
    # good/bad in words follows the declared direction: more dissolutions are bad, fewer good
    assert re.search(r"P\(Partnership dissolution: dissolved\) by \+\d+\.\d pp \(90% interval [^)]*; bad for the partnership", md)
    assert re.search(r"P\(Partnership dissolution: dissolved\) by -\d+\.\d pp \(90% interval [^)]*; good for the partnership", md)
