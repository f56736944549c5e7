"""Reports of a study: ``report.md`` with PNG figures, and a self-contained ``report.html``."""
