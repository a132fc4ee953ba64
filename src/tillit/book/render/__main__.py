"""`python -m tillit.book.render`: the same command as `python -m tillit.book`."""
import sys

from tillit.book.render.run import main

sys.exit(main())
