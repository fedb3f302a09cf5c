"""Run records: what a run was and how it went (its bounded histories), their JSON, diffs
and CSV export."""
