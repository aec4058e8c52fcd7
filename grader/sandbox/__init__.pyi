# The names grader/sandbox/__init__.py loads on first use, for type checkers.
from grader.sandbox.levels import BUBBLEWRAP as BUBBLEWRAP
from grader.sandbox.levels import LANDLOCK as LANDLOCK
from grader.sandbox.levels import LEVELS as LEVELS
from grader.sandbox.levels import PROJECT_ROOT as PROJECT_ROOT
from grader.sandbox.levels import RLIMITS as RLIMITS
from grader.sandbox.levels import WORKER_CODE as WORKER_CODE
from grader.sandbox.levels import detect_isolation as detect_isolation
from grader.sandbox.levels import diagnose as diagnose
from grader.sandbox.process import LOG_TAIL_BYTES as LOG_TAIL_BYTES
from grader.sandbox.process import Limits as Limits
from grader.sandbox.process import Mount as Mount
from grader.sandbox.process import Outcome as Outcome
from grader.sandbox.process import harden_grader_process as harden_grader_process
from grader.sandbox.runner import Interrupted as Interrupted
from grader.sandbox.runner import Isolation as Isolation
from grader.sandbox.runner import Sandbox as Sandbox
from grader.sandbox.runner import detect as detect

_EXPORTS: dict[str, str]
__all__: list[str]
