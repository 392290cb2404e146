"""Pattern tests run the catalogue of src/orgsim/patterns.py: 20 seeds per arm."""
