"""``python -m docflow.cli_main``: the CLI without the console script (used by tests and scripts)."""

from docflow.cli import app

if __name__ == "__main__":
    app()
