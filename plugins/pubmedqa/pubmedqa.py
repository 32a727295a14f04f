"""`pubmedqa`: yes/no/maybe questions about biomedical research abstracts, as
in PubMedQA (Jin et al., 2019). Records use the layout of the Hugging Face
`qiaojin/PubMedQA` data (`pqa_labeled`):

    {"pubid": 21645374, "question": "Do ...?",
     "context": {"contexts": ["...", "..."], "labels": ["BACKGROUND", "RESULTS"]},
     "long_answer": "...", "final_decision": "yes"}

A flat `context` string and an `answer` field are accepted too. The prompt
shows the abstract's sections and the question; the reply must end with
"Answer: yes|no|maybe". A reply that commits to two answers ("yes or maybe")
is `hedged`, not credited.
"""

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from assay_env import BadArgs, BadRecord, Description, Environment, ParseStatus, Prompt, Score, register, template

ANSWERS = ("yes", "no", "maybe")
DEFAULT_TEMPLATE = (
    "{context}\n\nQuestion: {question}\n\n"
    'Answer from the abstract above. Finish with "Answer: yes", "Answer: no" or "Answer: maybe".'
)
PLACEHOLDERS = ("context", "question")


@dataclass
class Args:
    """The job's `env_args` (unknown keys are errors)."""

    system_prompt: Optional[str] = None
    prompt_template: str = DEFAULT_TEMPLATE
    section_labels: bool = True


@dataclass
class Contexts:
    """PubMedQA's structured abstract."""

    contexts: List[str]
    labels: List[str] = field(default_factory=list)


@dataclass
class Record:
    """One PubMedQA record. Other fields (`pubid`, `long_answer`, `meshes`) are ignored."""

    question: str
    context: Union[Contexts, str, None] = None
    final_decision: Optional[str] = None
    answer: Optional[str] = None


class PubMedQa(Environment):
    Args = Args
    Record = Record
    State = str  # the gold decision

    @classmethod
    def describe(cls):
        description = Description(
            "PubMedQA-style yes/no/maybe questions over research abstracts (Python). "
            "Reads the last \"Answer:\" of the reply; two answers at once are `hedged`."
        )
        description.default_dataset = '{"hub": "qiaojin/PubMedQA", "config": "pqa_labeled", "split": "train"}'
        return (
            description.arg("system_prompt", "string", "null", "A system message sent before the question.")
            .arg("prompt_template", "string", '"{context}\\n\\nQuestion: {question}\\n\\n..."', "The user message; {context} and {question} are filled in.")
            .arg("section_labels", "bool", "true", "Show each abstract section's label (BACKGROUND: ...).")
        )

    def __init__(self, args):
        super().__init__(args)
        typo = template.unknown_placeholder(args.prompt_template, PLACEHOLDERS)
        if typo is not None:
            raise BadArgs(f"field `prompt_template`: unknown placeholder {{{typo}}}, expected {{context}} or {{question}}")

    def prepare(self, record, rng):
        gold = (record.final_decision or record.answer or "").strip().lower()
        if gold not in ANSWERS:
            raise BadRecord("field `final_decision`: not yes, no or maybe")
        user = template.render(self.args.prompt_template, {"context": self.abstract(record.context), "question": record.question})
        prompt = Prompt()
        if self.args.system_prompt is not None:
            prompt.system(self.args.system_prompt)
        return prompt.user(user.strip()), gold

    def abstract(self, context):
        """The abstract as text: labelled sections, one paragraph each."""
        if context is None or isinstance(context, str):
            return context or ""
        labels = context.labels if self.args.section_labels else []
        paragraphs = []
        for i, text in enumerate(context.contexts):
            label = labels[i] if i < len(labels) else None
            paragraphs.append(f"{label.upper()}: {text}" if label else text)
        return "\n\n".join(paragraphs)

    def grade(self, gold, completion):
        found = extract(completion)
        if found is None:
            return Score.no_answer().detail("gold", gold)
        if len(found) > 1:
            return Score(0.0, parse_status=ParseStatus.HEDGED).answer(" or ".join(found)).detail("gold", gold)
        return Score.correct_if(found[0] == gold).answer(found[0]).detail("gold", gold)

    def reference(self, gold):
        return f"Answer: {gold}"


_WORD = re.compile(r"[a-z]+")


def extract(reply: str) -> Optional[List[str]]:
    """The answers a reply commits to: the words yes/no/maybe right after its
    last "answer:" (markdown and punctuation skipped; "yes or maybe" gives
    two), else a reply that is one answer alone ("No."). None when there is
    none."""
    lower = reply.lower()
    at = lower.rfind("answer:")
    if at < 0:
        word = lower.strip(" \t\n*_.!\"'`()")
        return [word] if word in ANSWERS else None
    words = _WORD.findall(lower[at + 7 : at + 60])
    found: List[str] = []
    for i, word in enumerate(words):
        if word in ANSWERS:
            if word not in found:
                found.append(word)
        elif not (found and word in ("or", "and") and i + 1 < len(words) and words[i + 1] in ANSWERS):
            break
    return found or None


register(PubMedQa)
