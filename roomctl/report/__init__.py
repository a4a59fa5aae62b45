"""Session records for the clinic's file: export (CSV, JSON) and the report (charts and a summary table)."""
