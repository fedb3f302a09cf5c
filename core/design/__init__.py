"""The design as data: specs with their field tables, parsing and validation, pure edits,
size limits, and the network check. Reads the engine's tables, never builds a network."""
