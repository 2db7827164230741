"""``python -m perimeter.templates``: see perimeter.templates.cli."""
import sys

from perimeter.templates.cli import main

sys.exit(main())
