"""`trip ssh`: members reach their own `trip ui` with plain `ssh`, signed in by their SSH key.

The SSH server reads the database (SSH keys, session keys) as `trip keys` does, and runs the
terminal app only as a child process on a pseudo-terminal: it never imports the TUI."""
