"""`python -m tillit.book`: render the book from the executed notebooks."""
import sys

from tillit.book.render import main

sys.exit(main())
