"""coursemate: an AI teaching assistant over a deep-learning course's notes."""

__version__ = "0.1.0"
