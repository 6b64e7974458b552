"""``python -m ganaug`` runs the CLI (torchrun needs this form)."""

from ganaug.cli import main

if __name__ == "__main__":
    main()
