"""Writers of the synthetic world's annotations in public dataset formats."""
