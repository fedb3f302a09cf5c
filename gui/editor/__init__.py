"""Editing a design: the layer palette, the network editor's cards, the inspector, the
training settings, the field editors generated from the engine's tables, and the dataset
panel."""
