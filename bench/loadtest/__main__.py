import sys

from bench.loadtest.runner import main

sys.exit(main())
