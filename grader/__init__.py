"""grader: trains, checks and reports on students' Keras assignments."""

__version__ = "0.1.0"
