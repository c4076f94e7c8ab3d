"""``python -m docflow.cli``: the same entry point as the ``docflow`` console script."""

from docflow.cli import main

main()
