"""The plain types every layer shares: what a language, a problem, a program, a run, a
verdict and a result are. Nothing here imports anything else of codeexec, so any room
(doors, intake, judge, sandbox, stores, views) can use them without pulling in another.
"""

from codeexec.model.checker import (
    CHECKER_MODES,
    PROGRAM_MODES,
    UNCHECKED,
    CheckerProgram,
    CheckerSpec,
)
from codeexec.model.files import (
    ATTACHMENT,
    STATEMENT,
    FileSummary,
    ProblemFile,
)
from codeexec.model.language import CompileLimits, Language, Screening, SelfTest
from codeexec.model.problem import (
    AD_HOC_ID,
    PROBLEM_ID_PATTERN,
    AdHoc,
    Problem,
    ProblemSnapshot,
    ProblemSummary,
    TestCase,
    TestSummary,
)
from codeexec.model.result import Judgement, Output, Result, Shown, TestReport, TestResult
from codeexec.model.run import RunLimits, RunOutcome
from codeexec.model.scoring import GroupScore, ScoreGroup, ScoreReport, Scoring
from codeexec.model.source import SourceFile
from codeexec.model.submission import SCOPES, Event, Outcome, Scope, Status, Submission
from codeexec.model.verdict import Verdict

__all__ = [
    "AD_HOC_ID",
    "ATTACHMENT",
    "CHECKER_MODES",
    "PROBLEM_ID_PATTERN",
    "PROGRAM_MODES",
    "SCOPES",
    "STATEMENT",
    "UNCHECKED",
    "AdHoc",
    "CheckerProgram",
    "CheckerSpec",
    "CompileLimits",
    "Event",
    "FileSummary",
    "GroupScore",
    "Judgement",
    "Language",
    "Outcome",
    "Output",
    "Problem",
    "ProblemFile",
    "ProblemSnapshot",
    "ProblemSummary",
    "Result",
    "RunLimits",
    "RunOutcome",
    "Scope",
    "ScoreGroup",
    "ScoreReport",
    "Scoring",
    "Screening",
    "SelfTest",
    "Shown",
    "SourceFile",
    "Status",
    "Submission",
    "TestCase",
    "TestReport",
    "TestResult",
    "TestSummary",
    "Verdict",
]
