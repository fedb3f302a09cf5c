"""Run records: the snapshots a run reports, what a run was and how it went (its bounded
histories), the one recorder that makes records, their JSON, diffs and CSV export."""
