import sys

from symcount.cli import main

sys.exit(main())
