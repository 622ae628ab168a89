"""The report: the headline answers in one folder (Markdown tables, CSVs, figures)."""

from .markdown import write_report

__all__ = ["write_report"]
