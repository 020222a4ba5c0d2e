"""The carrier: accounts, org tree, permissions, coverage, audit, and the app factory."""
