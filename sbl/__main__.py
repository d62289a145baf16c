"""``python -m sbl`` runs the command line."""

from sbl.cli import main

main()
