"""Convention models: partnership-convention templates read from the `conventions/` folder."""
