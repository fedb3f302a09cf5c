"""The numeric engine: activation, loss, initialiser, optimizer, schedule and blow-up
tables, and the runtime layers and network with backpropagation. Imports nothing else of
``core`` but errors."""
