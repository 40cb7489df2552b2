"""Grading results as data: what the CLI shows, the store keeps and the batch formats are made from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the learner's file could not be graded at all (syntax error, crash, time-out)


@dataclass
class TestResult:
    """One spec test: its verdict, the learner-facing message, and its points."""

    __test__ = False  # a result, whatever pytest thinks of the name

    name: str
    status: Status
    message: str | None
    score: float
    max_score: float
    duration: float = 0.0
    diagnosis: str | None = None  # the likely mistake, when a known signature matches
    mistake: str | None = None  # that mistake's id in the kata's catalog


@dataclass
class KataResult:
    """One kata graded for one learner file."""

    kata_id: str
    file: str
    status: Status
    tests: list[TestResult] = field(default_factory=list)
    error: str | None = None  # why the kata as a whole could not be graded
    duration: float = 0.0

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> KataResult:
        """The result to_dict() wrote (the store keeps every grade so)."""
        fields = TestResult.__dataclass_fields__
        tests = [TestResult(**{**{k: v for k, v in t.items() if k in fields}, "status": Status(t["status"])}) for t in data["tests"]]
        return cls(data["kata_id"], data["file"], Status(data["status"]), tests, data.get("error"), data.get("duration", 0.0))
