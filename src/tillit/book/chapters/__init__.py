"""One module per chapter of Delrapport 1: that chapter's figures, tables and computed prose."""
