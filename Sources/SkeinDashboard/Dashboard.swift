// Placeholder so the target builds; the dashboard lands in the next commits.
