"""Training stages for the project's own model: tokenizer -> pretrain -> sft.

Data is made from a Task's train split through the Task protocol, so the formats a model
learns are the formats strategies prompt it with.
"""
