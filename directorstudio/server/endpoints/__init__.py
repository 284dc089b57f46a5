"""The functions' request handlers; ``functions/<name>/main.py`` and the dispatcher call them."""
