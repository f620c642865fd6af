"""`python -m knowledge_base ...` runs the knowledge-base CLI."""

import sys

from .cli import main

sys.exit(main())
