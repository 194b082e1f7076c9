"""The worker's start-up check names its own topics whose partition count differs from kafka.topicPartitions
(a changelog auto-created by the broker with one partition split the identity map wrongly)."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.kafka.topics import partition_problems


@dataclass
class Meta:
    count: int
    partitions: dict[int, object] = field(init=False)

    def __post_init__(self) -> None:
        self.partitions = {p: object() for p in range(self.count)}


def test_a_changelog_with_another_partition_count_is_named_and_others_are_not() -> None:
    topics = {"edfi-stream-identity-changelog": Meta(1), "edfi-stream-students-changelog": Meta(4),
              "edfi-stream.write-commands": Meta(4), "edfi-stream.student-events": Meta(2),
              "sis.test_scores": Meta(1), "other-app-identity-changelog": Meta(1)}
    problems = partition_problems(topics, "edfi-stream", 4)
    assert len(problems) == 2, problems
    assert problems[0].startswith("topic edfi-stream-identity-changelog has 1 partitions but "
                                  "kafka.topicPartitions is 4")
    assert problems[1].startswith("topic edfi-stream.student-events has 2 partitions")


def test_all_matching_is_no_problem() -> None:
    assert partition_problems({"edfi-stream-sent-changelog": Meta(8)}, "edfi-stream", 8) == []
