"""The multiple-choice task that scripts/compare_harnesses.py runs with Inspect.

Reads the comparison's JSONL dataset (one record a line: id, question,
choices, answer = the gold letter) and grades with Inspect's own
`multiple_choice()` solver and `choice()` scorer. The driver copies this file
into its scratch directory and runs it there, so Python writes no byte-code
cache into the repository:

    inspect eval inspect_task.py -T dataset=/abs/path/questions.jsonl \
        --model openai-api/stub/m --max-connections 64 --display none
"""

from inspect_ai import Task, task
from inspect_ai.dataset import Sample, json_dataset
from inspect_ai.scorer import choice
from inspect_ai.solver import multiple_choice


def record_to_sample(record: dict) -> Sample:
    return Sample(
        id=record["id"],
        input=record["question"],
        choices=record["choices"],
        target=record["answer"],
    )


@task
def compare_mcq(dataset: str = "questions.jsonl") -> Task:
    return Task(
        dataset=json_dataset(dataset, record_to_sample),
        solver=multiple_choice(),
        scorer=choice(),
    )
