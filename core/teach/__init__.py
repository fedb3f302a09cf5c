"""Teaching: the seed's lessons as runnable experiments, and one training step taken apart
stage by stage."""
