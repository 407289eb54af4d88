"""Pure domain logic: plain records and the maths on them. Standard library only."""
