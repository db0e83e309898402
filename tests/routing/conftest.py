"""The core's tests, one folder per room of bot/routing; `factories` serves them all."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `from factories import …` in every room
