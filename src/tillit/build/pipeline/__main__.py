"""`python -m tillit.build.pipeline [--only NB ...] [--force] [--workers N]`: the build without the book."""
import sys

from tillit.build.pipeline.orchestrate import main

sys.exit(main())
