"""Constrained decoding: output types (Regex, JsonSchema, Choice, and the tasks' line grammars),
compiled once per (constraint, tokenizer) into guides, applied by a logits processor as tensor
masks. Imports nothing from tasks/ or strategies/."""

from reasoning.constraints.compiler import Compiler, is_constraint, is_output_type
from reasoning.constraints.finish import settle
from reasoning.constraints.guide import Guide
from reasoning.constraints.line_guide import LineGuide
from reasoning.constraints.processor import GuideProcessor
from reasoning.constraints.regex_guide import RegexGuide
from reasoning.constraints.types import Choice, JsonSchema, OutputType, Regex
from reasoning.constraints.vocabulary import TokenVocabulary
from reasoning.constraints.wire import from_request, to_request

__all__ = [
    "Choice",
    "Compiler",
    "Guide",
    "GuideProcessor",
    "JsonSchema",
    "LineGuide",
    "OutputType",
    "Regex",
    "RegexGuide",
    "TokenVocabulary",
    "from_request",
    "is_constraint",
    "is_output_type",
    "settle",
    "to_request",
]
