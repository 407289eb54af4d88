"""Use cases over storage; they take and return plain records, never discord objects."""
