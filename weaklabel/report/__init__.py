"""Reports: rendering blocks to Markdown/HTML, figures, and one module per report."""
