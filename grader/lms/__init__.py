"""What learning-management systems name and expect: their download layouts (Canvas, Moodle),
their grade-import files, Gradescope's autograder results. Pure format knowledge: the
commands that use it are in `grader.pipeline` (lmsimport, lmsexport, gradescope)."""
