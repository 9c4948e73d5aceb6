"""Hardware-in-the-loop rigs: YAML scenarios played against the real terminal (README "Rigs")."""
