"""Discord glue: listeners and commands, thin, one feature per cog."""
