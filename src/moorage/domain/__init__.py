"""Pure logic of moorage: no I/O, imports nothing else of ours."""
