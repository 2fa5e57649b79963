"""What supervision does with other applications' events (approvals.case.* → intake)."""
