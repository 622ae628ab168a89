"""The report: compute the headline answers once (:class:`ReportResult`), then render them.

``compute_report`` -> ``sections.blocks`` -> ``render_markdown`` / ``render_html``;
``write_report`` does all of it into one folder (Markdown, HTML, CSV tables, PNG figures).
"""

from .compute import ReportResult, compute_report
from .html import render_html
from .markdown import render_markdown
from .sections import blocks
from .write import report_figures, write_report

__all__ = ["ReportResult", "blocks", "compute_report", "render_html", "render_markdown", "report_figures", "write_report"]
