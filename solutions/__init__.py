"""Model answers to every exercise stub; written independently of the zoo (they never import it)."""
