"""Everything that runs inside the sandbox, next to student code."""
