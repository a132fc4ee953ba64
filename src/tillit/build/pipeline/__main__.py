import sys

from tillit.build.pipeline.execute import main

sys.exit(main())
