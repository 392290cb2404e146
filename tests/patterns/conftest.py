"""Pattern tests run the catalogue of src/orgsim/patterns.py: each pattern with its own seeds (10, 20 or 40 per arm)."""
